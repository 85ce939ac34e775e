"""Every Chongqing place the five seed articles name with a role (a designation, a protection
status, a project, a plan or a figure) is a seed place, or is left out for a stated reason.

The list was made by reading each article sentence by sentence; a mention is the words the
article uses. The test checks the words are in the article, each place id exists and carries a
designation, a figure or a role from that article, and every reason is given.
"""

from __future__ import annotations

import pytest

from atlas.load import load_atlas

from .shared import ARTICLES, normalise_space, source_text

ATLAS = load_atlas()
J, C, G, Q, D = ("000_7e21b9e3505d52fe.txt", "001_54c89712fab19ef2.txt", "002_3edcef8a517ec728.txt",
                 "003_c4c8725dee9525af.txt", "004_5d58072e82e72910.txt")

# (article, the words naming the place, seed place id or None, why it is left out when None)
MENTIONS: list[tuple[str, str, str | None, str | None]] = [
    # 000 Jinyun Mountain
    (J, "Jinyun Mountain National Nature Reserve", "jinyun-mountain", None),
    (J, "Beibei District has invested 55 million yuan", "beibei", None),
    (J, "Chongqing has now established a work command", "chongqing", None),
    (J, "natural ecological barrier for Chongqing’s main urban area", None,
     "the main urban area is named as what the reserve shelters; no role of its own"),
    # 001 the named zones and bases
    (C, "Chongqing City recently named nine", "chongqing", None),
    (C, "Jiulongpo District, Kaizhou District, Zhong County, and Wushan County", "jiulongpo", None),
    (C, "Kaizhou District focuses on ecological construction", "kaizhou", None),
    (C, "Zhong County has worked hard", "zhong-county", None),
    (C, "Wushan County promotes", "wushan", None),
    (C, "the Apeng River Basin in Qianjiang District", "apeng-river-basin", None),
    (C, "the Damian Mountain Area in Jiangjin District", "damian-mountain-area", None),
    (C, "the Chashan Bamboo Sea Area in Yongchuan District", "chashan-bamboo-sea", None),
    (C, "the Dazu Stone Carving Dazu Area in Dazu District", "dazu-rock-carvings-area", None),
    (C, "the Laixi River Basin in Rongchang District", "laixi-river-basin", None),
    (C, "the Zhongliang Mountains have become", "zhongliang-mountains", None),
    (C, "Pengxi River Jinguan", "pengxi-river-jinguan-section", None),
    (C, "Yanglu Dukou National Examination Sections", "pengxi-river-yanglu-dukou-section", None),
    (C, "Hanfeng Lake has been rated", "hanfeng-lake", None),
    (C, "including Houba", "houba-town", None),
    (C, "Zhuxi", "zhuxi-town", None),
    (C, "Xuebao Town", "xuebao-town", None),
    (C, "the Three Gorges Orange Township Pastoral Complex has been named", "three-gorges-orange-township", None),
    (C, "Conch Cement successfully created the only A-level enterprise", None,
     "an enterprise's environmental performance grade, not a place; the article gives no site"),
    (C, "ecological poverty alleviation and prosperity in the Three Gorges Reservoir Area", None,
     "a region reaching beyond Chongqing, named as the setting of Wushan's aim; no role of its own"),
    (C, "Based on the Apeng River National Wetland Park", "apeng-river-national-wetland-park", None),
    (C, "the ecological advantages of Simian Mountain", "damian-mountain-area", None),
    (C, '"Yongchuan Xiuya" has won', None, "a tea brand (geographical indication), not a place"),
    (C, "Bayue Mountain", "bayue-mountain", None),
    (C, "Longshui Lake", "longshui-lake", None),
    (C, "Rongchang pig germplasm resources", None, "a pig breed, not a place"),
    (C, "national ecological civilization construction demonstration zones (Bishan, Yubei", "bishan", None),
    (C, "Beibei, Qianjiang, Wulong, and Chengkou)", "chengkou", None),
    (C, "Beibei, Qianjiang, Wulong, and Chengkou)", "qianjiang", None),
    (C, "Guangyang Island, Wushan", "guangyang-island", None),
    (C, "a total of 24 demonstration towns", "chongqing", None),
    # 002 green metropolis
    (G, "Jiangbeizui Jiangtan Park, Jiangbei District", "jiangbeizui-jiangtan-park", None),
    (G, "“Two Rivers and Four Banks” (Changjiahui Grand Scenic Area)", None,
     "an area across several central districts, named as the setting of Jiangtan Park's project"),
    (G, "In Beibei District in October, Jinyun Mountain", "jinyun-mountain", None),
    (G, "the ecologically restored Daihu Lake", "daihu-lake", None),
    (G, "Chongqing’s energy consumption per 10,000 yuan of GDP", "chongqing", None),
    (G, "Xiantao Data Valley, located in Yubei District", "xiantao-data-valley", None),
    (G, "output value of intelligent terminals in the autonomous sector of Yubei District", "yubei", None),
    (G, "Bishan District launched a series of activities", "bishan", None),
    (G, "the first phase of the “Yunba” project", "bishan-yunba", None),
    (G, "the Fengxiang Lake Children’s Park, Dongyue Sports Park, Xiuhu Car Camping Park, Xiuhu Park", None,
     "city parks the Yunba line passes; no designation, project or figure of their own"),
    (G, "the garbage classification in the central city of Chongqing", "chongqing", None),
    # 003 Qianjiang, Xiushan, Wulong
    (Q, "Qianjiang District Ecology and Environment Bureau", "qianjiang", None),
    (Q, "Chongqing is one of the eight areas in China most seriously affected", "chongqing", None),
    (Q, "located in the Wuling Mountain area", None, "a mountain region across four provinces; no role of its own"),
    (Q, "the transformation of the Apeng River basin", "apeng-river-basin", None),
    (Q, "Xiushan Tujia and Miao Autonomous County", "xiushan", None),
    (Q, "Xiaoxi Reservoir in Xiushan", None, "named only in a photo caption; no role"),
    (Q, "Wulong District's ecological economy", "wulong", None),
    (Q, "The Three Natural Bridges in Wulong District", "three-natural-bridges", None),
    (Q, "the Fairy Mountain Camping Music Festival", "fairy-mountain", None),
    (Q, "the Impression of Wulong show", None, "a stage show, not a place"),
    (Q, "Jingzhu Village was recognized", "jingzhu-village", None),
    # 004 conference
    (D, "the Chinese Hall of Yuzhou State Guest Hotel", None, "the conference venue; no role"),
    (D, "provincial-level pioneer zone for a Beautiful China", "chongqing", None),
    (D, "Liangjiang New Area will take the integrated management", None,
     "a state-level new area across Jiangbei, Yubei and Beibei, with no district of its own; "
     "its plans are recorded with the sites they name where a district is known"),
    (D, "the fourth-phase expansion of the Tangjiatuo Wastewater Treatment Plant", None,
     "placed by the article only in Liangjiang New Area; its district is not recorded without a source"),
    (D, "the Luoqi section of the Yangtze River", None,
     "placed by the article only in Liangjiang New Area; its district is not recorded without a source"),
    (D, "the Shunshuisi section of the Jialing River", None,
     "placed by the article only in Liangjiang New Area; its district is not recorded without a source"),
    (D, "the comprehensive enhancement of the Jinyun Mountain area", "jinyun-mountain", None),
    (D, "Beibei will strive to fully meet the targets", "beibei", None),
    (D, "the Three Gorges reservoir tail area of the upper Yangtze River", None,
     "the region of one of Beibei's five planned projects (recorded as Beibei's plan figure)"),
    (D, "the Jinguoyuan Cultural Tourism and Wellness project", "jinguoyuan-project", None),
    (D, "Regulations on the Protection and Development of Jinyun Mountain", "jinyun-mountain", None),
    (D, "the Furong River", "furong-river", None),
    (D, "Daxi River", "daxi-river", None),
    (D, "Fairy Mountain, and Baima Mountain", "fairy-mountain", None),
    (D, "Baima Mountain", "baima-mountain", None),
    (D, "safeguard the World Natural Heritage site", "wulong-karst", None),
    (D, "annual number of days with good air quality steadily above 350", "wulong", None),
    (D, "the forestry reform pilot in the Greater Fairy Mountain area", "fairy-mountain", None),
    (D, "Ouying Village, Caotang Town, Fengjie County", "ouying-village", None),
    (D, "Ouying Village, Caotang Town, Fengjie County", "caotang-town", None),
    (D, "Fengjie County will scale up and strengthen the navel orange industry", "fengjie", None),
    (D, "the Chengdu-Chongqing Economic Circle", None, "an economic region across two provinces; no site"),
    (D, "Wanzhou will use the", "wanzhou", None),
    (D, "Greater Three Gorges, Great Pinghu Lake, Grand Countryside, and Grand Waterfalls", None,
     "names of Wanzhou's initiatives, recorded in Wanzhou's role; the article locates no site"),
    (D, "Bishan has adhered to the path", "bishan", None),
    (D, "the Green and Low-Carbon Materials Industrial Park", "bishan-low-carbon-materials-park", None),
    (D, "the Circular Economy Industrial Park", "bishan-circular-economy-park", None),
    (D, "natural endowments like the Jinyun Mountain and Yunwu Mountain", None,
     "Yunwu Mountain is named as a natural asset for tourism; no designation, project or figure"),
    (D, '"Yunwu Huajian,"', "yunwu-huajian", None),
    (D, "Fuling will spare no effort", "fuling", None),
    (D, "a doubling plan for strategic emerging industries", "fuling", None),
    (D, "Yunyang will coordinate and advance", "yunyang", None),
    (D, "build a clean energy base in northeastern Chongqing", "yunyang", None),
    (D, "the Yangtze River Golden Waterway, the New International Land-Sea Trade Corridor, and the China-Europe",
     None, "transport corridors beyond Chongqing; their volume is recorded for Chongqing as a whole"),
    (D, "The number of inter-provincial channels", "chongqing", None),
    (D, "the new Three Gorges Waterway Transport Channel", None, "a planned waterway channel beyond Chongqing"),
    (D, "Chongqing Jiangbei International Airport", "chongqing-jiangbei-airport", None),
    (D, "the Chongqing Bishan Airport", "chongqing-bishan-airport", None),
    (D, "at locations such as Guoyuan and Xintian", None,
     "ports named for planned near-zero-carbon terminals without their districts; not recorded "
     "without a source"),
]


def article_text(name: str) -> str:
    return source_text(ARTICLES / name)


@pytest.mark.parametrize("article, words, place_id, reason", MENTIONS,
                         ids=[f"{a[:3]}-{w[:40]}" for a, w, *_ in MENTIONS])
def test_mention_is_in_its_article_and_mapped_or_explained(article, words, place_id, reason):
    assert normalise_space(words) in article_text(article), "the mention's words are not in the article"
    if place_id is None:
        assert reason and len(reason) > 10, "a mention left out needs its reason"
        return
    assert reason is None
    assert place_id in ATLAS.places, f"{place_id} is not a seed place"


def test_every_seed_place_from_the_articles_is_a_listed_mention():
    """No seed place goes without its sentence in the list (external-only places excepted)."""
    listed = {place_id for _, _, place_id, _ in MENTIONS if place_id}
    assert set(ATLAS.places) - listed == {"tongliang-xijiao", "yunyang-longgang"}  # from the bureau's list only


def test_mapped_places_carry_a_fact_or_role_from_an_article():
    by_place: dict[str, set[str]] = {}
    for d in ATLAS.designations.values():
        by_place.setdefault(d.place, set()).add(d.evidence.source)
    for m in ATLAS.metrics.values():
        by_place.setdefault(m.place, set()).add(m.evidence.source)
    for place in ATLAS.places.values():
        if place.evidence:
            by_place.setdefault(place.id, set()).add(place.evidence.source)
    articles = {s.id for s in ATLAS.sources.values() if s.kind == "article"}
    for _, _, place_id, _ in MENTIONS:
        if place_id:
            assert by_place.get(place_id, set()) & articles, place_id


def test_the_issue_examples_are_seed_places():
    assert ATLAS.places["three-natural-bridges"].district == ATLAS.places["fairy-mountain"].district == "500156"
    assert "Wulong Karst" not in ATLAS.places["wulong"].aliases
    assert "Wulong Karst" in ATLAS.places["wulong-karst"].names()
    assert ATLAS.designations["wulong-world-natural-heritage"].place == "wulong-karst"
