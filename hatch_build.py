"""Hatchling build hook: vendor Leaflet and its plugins from npm into atlas/vendor/.

Third-party JS/CSS is never committed; it comes from the npm packages pinned in
js/package-lock.json. On every wheel/editable build this hook runs `npm ci` in js/
and copies the few dist files atlas inlines into its HTML (plus the images their CSS
references and each package's licence) to atlas/vendor/, with a manifest.json that
atlas.assets reads. The npm step is skipped when the manifest already records the
current lock file and asset list, so re-installs stay fast and work offline.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

# Logical asset name -> (npm package, file inside the package). atlas/assets.py maps
# folium's CDN URLs onto these names; keep the two in step.
ASSETS: dict[str, tuple[str, str]] = {
    "leaflet.js": ("leaflet", "dist/leaflet.js"),
    "leaflet.css": ("leaflet", "dist/leaflet.css"),
    # Leaflet's default marker icon, inlined by atlas.assets as data: URIs.
    "leaflet-marker-icon.png": ("leaflet", "dist/images/marker-icon.png"),
    "leaflet-marker-icon-2x.png": ("leaflet", "dist/images/marker-icon-2x.png"),
    "leaflet-marker-shadow.png": ("leaflet", "dist/images/marker-shadow.png"),
    "markercluster.js": ("leaflet.markercluster", "dist/leaflet.markercluster.js"),
    "markercluster.css": ("leaflet.markercluster", "dist/MarkerCluster.css"),
    "markercluster.default.css": ("leaflet.markercluster", "dist/MarkerCluster.Default.css"),
    "fullscreen.js": ("leaflet.fullscreen", "Control.FullScreen.js"),
    "fullscreen.css": ("leaflet.fullscreen", "Control.FullScreen.css"),
    "search.js": ("leaflet-search", "dist/leaflet-search.min.js"),
    "search.css": ("leaflet-search", "dist/leaflet-search.min.css"),
    "groupedlayercontrol.js": ("leaflet-groupedlayercontrol", "dist/leaflet.groupedlayercontrol.min.js"),
    "groupedlayercontrol.css": ("leaflet-groupedlayercontrol", "dist/leaflet.groupedlayercontrol.min.css"),
    "tag-filter-button.js": ("leaflet-tag-filter-button", "src/leaflet-tag-filter-button.js"),
    "tag-filter-button.css": ("leaflet-tag-filter-button", "src/leaflet-tag-filter-button.css"),
    "easy-button.js": ("leaflet-easybutton", "src/easy-button.js"),
    "easy-button.css": ("leaflet-easybutton", "src/easy-button.css"),
    "ripple.css": ("css-ripple-effect", "dist/ripple.min.css"),
    "minimap.js": ("leaflet-minimap", "dist/Control.MiniMap.min.js"),
    "minimap.css": ("leaflet-minimap", "dist/Control.MiniMap.min.css"),
    "supercluster.js": ("supercluster", "dist/supercluster.min.js"),  # kdbush bundled in; atlas.plugins.PointLayer
    "d3.js": ("d3", "d3.min.js"),  # branca colormap legends
    "jquery.js": ("jquery", "dist/jquery.min.js"),  # only for folium Popup / keep_in_front
}

_CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+?)['"]?\s*\)""")
# Packages whose dist file bundles others: those others' licences travel with it.
BUNDLED = {"supercluster": ("kdbush",)}
_LICENSE = re.compile(r"^(licen[cs]e|mit-licen[cs]e)", re.IGNORECASE)


def _fail(message: str) -> None:
    """Stop the build with one readable line instead of a hatchling traceback."""
    raise SystemExit(f"atlas build: {message}")


def _license_name(meta: dict) -> str:
    """npm package.json licence in one string (old packages use a list of dicts)."""
    lic = meta.get("license") or meta.get("licenses") or "UNKNOWN"
    if isinstance(lic, list):
        lic = " OR ".join(item.get("type", "?") if isinstance(item, dict) else str(item) for item in lic)
    elif isinstance(lic, dict):
        lic = lic.get("type", "UNKNOWN")
    return str(lic)


def source_hash(lock: Path) -> str:
    """Hash of the lock file and the asset list: equal hash means vendor/ is current."""
    digest = hashlib.sha256(lock.read_bytes())
    digest.update(json.dumps(ASSETS, sort_keys=True).encode())
    return digest.hexdigest()


def is_current(vendor: Path, wanted: str) -> bool:
    """True when vendor/manifest.json was written from this lock and all its files exist."""
    try:
        manifest = json.loads((vendor / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return manifest.get("source_sha256") == wanted and all(
        (vendor / rel).is_file() for rel in manifest.get("files", [])
    )


def vendor_assets(modules: Path, vendor: Path, lock_hash: str) -> dict:
    """Copy ASSETS (+ files their CSS url()s name + licences) from node_modules; write manifest."""
    if vendor.exists():
        shutil.rmtree(vendor)
    copied: set[str] = set()

    def copy(package: str, rel: str) -> None:
        src = modules / package / rel
        if not src.is_file():
            _fail(f"{package}/{rel} not found in js/node_modules (package layout changed?)")
        dst = vendor / package / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
        copied.add(dst.relative_to(vendor).as_posix())

    assets, packages = {}, {}
    for name, (package, rel) in ASSETS.items():
        if package not in packages:
            meta = json.loads((modules / package / "package.json").read_text(encoding="utf-8"))
            packages[package] = {"version": meta["version"], "license": _license_name(meta)}
            for owner in (package, *BUNDLED.get(package, ())):
                for lic in sorted(p.name for p in (modules / owner).iterdir() if _LICENSE.match(p.name)):
                    copy(owner, lic)
        copy(package, rel)
        if rel.endswith(".css"):
            text = (modules / package / rel).read_text(encoding="utf-8")
            for ref in _CSS_URL.findall(text):
                if not ref.startswith(("data:", "#", "http:", "https:", "//")):
                    copy(package, (Path(rel).parent / ref).as_posix())
        assets[name] = {"file": f"{package}/{rel}", "package": package, **packages[package]}

    manifest = {
        "source_sha256": lock_hash,
        "assets": assets,
        "files": sorted(copied),
        "bytes": sum((vendor / rel).stat().st_size for rel in copied),
    }
    (vendor / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


class CustomBuildHook(BuildHookInterface):
    """Run `npm ci` and refresh atlas/vendor/ before the wheel (or editable wheel) is built."""

    def initialize(self, version: str, build_data: dict) -> None:
        if self.target_name != "wheel":  # the sdist ships js/ and this hook, not the output
            return
        root = Path(self.root)
        js, vendor = root / "js", root / "atlas" / "vendor"
        lock = js / "package-lock.json"
        if not lock.is_file():
            _fail("js/package-lock.json is missing; it pins the Leaflet assets atlas inlines")
        wanted = source_hash(lock)
        if is_current(vendor, wanted):
            return
        npm = shutil.which("npm")
        if npm is None:
            _fail("npm not found on PATH; install Node.js + npm (needed to vendor Leaflet from js/package-lock.json)")
        cmd = [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--omit=dev"]
        try:
            subprocess.run(cmd, cwd=js, check=True, stdout=subprocess.DEVNULL)
        except subprocess.CalledProcessError as exc:
            _fail(f"`npm ci` in js/ failed with exit code {exc.returncode} (see npm output above)")
        manifest = vendor_assets(js / "node_modules", vendor, wanted)
        self.app.display_info(f"atlas: vendored {len(manifest['assets'])} assets, {manifest['bytes']} bytes")
