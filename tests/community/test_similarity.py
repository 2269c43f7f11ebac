"""Similar posts while typing: cross-language matches and an index that follows new posts."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from canyu.community.similarity import METHODS, SimilarityIndex, is_cjk, tokenize

# The same problems reported once in English (id n) and once in Chinese (id 100 + n).
ENGLISH = {
    1: (
        "Camera app crashes when switching to video",
        "Every time I switch from photo to video mode the camera app closes.",
    ),
    2: ("Wi-Fi keeps disconnecting", "The phone drops the Wi-Fi connection every few minutes."),
    3: ("Notifications arrive late", "Messages show up on my phone ten minutes after sending."),
    4: (
        "Bluetooth headphones disconnect",
        "My earbuds lose the Bluetooth connection during calls.",
    ),
    5: ("Fingerprint sensor does not recognise my finger", "Fingerprint unlock fails most times."),
    6: ("GPS location is inaccurate", "Maps shows me hundreds of meters away from where I am."),
}
CHINESE = {
    101: ("切换到视频时相机应用崩溃", "每次从拍照切换到录像模式，相机应用就会闪退。"),
    102: ("Wi-Fi 经常断开连接", "在家里手机每隔几分钟就断开无线网络。"),
    103: ("通知延迟很久才收到", "消息发出十分钟后才在手机上显示。"),
    104: ("蓝牙耳机断开连接", "打电话的时候无线耳机的蓝牙连接会断开。"),
    105: ("指纹识别无法识别我的手指", "指纹解锁大部分时候都失败。"),
    106: ("GPS 定位不准确", "地图显示我的位置偏离了几百米。"),
}
# Other problems in both languages, some sharing words with the posts above.
DISTRACTORS = {
    201: (
        "Phone battery percentage shows wrong value",
        "The battery indicator jumps from 50% to 10%.",
    ),
    202: ("App crashes when opening settings", "The settings app closes immediately on launch."),
    203: ("Video playback stutters", "Videos in the gallery app play with stutter."),
    204: ("Phone restarts randomly", "My phone reboots by itself a few times a day."),
    301: ("电池百分比显示错误", "电量显示从百分之五十直接跳到百分之十。"),
    302: ("打开设置时应用崩溃", "设置应用一打开就闪退。"),
    303: ("视频播放卡顿", "相册里的视频播放时会卡。"),
    304: ("手机随机重启", "手机每天会自己重启几次。"),
}
ALL_POSTS = {**ENGLISH, **CHINESE, **DISTRACTORS}


def build(method: str = "hybrid") -> SimilarityIndex:
    index = SimilarityIndex(method)
    index.add_many((doc_id, title, body) for doc_id, (title, body) in ALL_POSTS.items())
    return index


@pytest.fixture(scope="module")
def index() -> SimilarityIndex:
    return build()


@pytest.mark.parametrize("english_id", sorted(ENGLISH))
def test_english_post_finds_its_chinese_counterpart_first(
    index: SimilarityIndex, english_id: int
) -> None:
    title, _ = ENGLISH[english_id]
    hits = index.search(title, k=5, exclude=[english_id])
    assert hits[0].doc_id == english_id + 100, hits


@pytest.mark.parametrize("chinese_id", sorted(CHINESE))
def test_chinese_post_finds_its_english_counterpart_first(
    index: SimilarityIndex, chinese_id: int
) -> None:
    title, body = CHINESE[chinese_id]
    hits = index.search(f"{title}\n{body}", k=5, exclude=[chinese_id])
    assert hits[0].doc_id == chinese_id - 100, hits


@pytest.mark.parametrize("query", ["zzzzqqq xylophone", "asdf qwer", "随便写写"])
def test_nonsense_is_never_a_likely_duplicate(index: SimilarityIndex, query: str) -> None:
    assert not any(hit.likely_duplicate for hit in index.search(query, k=5))


def test_a_translation_is_a_likely_duplicate_and_an_unrelated_post_is_not(
    index: SimilarityIndex,
) -> None:
    hits = index.search("Bluetooth headphones disconnect", k=5, exclude=[4])
    assert hits[0].doc_id == 104
    assert hits[0].likely_duplicate
    assert not any(hit.likely_duplicate for hit in hits if hit.doc_id in DISTRACTORS)


def test_shared_code_words_count_across_scripts() -> None:
    # Two Chinese posts about different builds: the English query names one of them.
    index = SimilarityIndex()
    index.add(1, "升级到 4.11.8 后相机闪退", "")
    index.add(2, "升级到 4.12.1 后相机闪退", "")
    assert index.search("Camera crashes after updating to 4.12.1", k=2)[0].doc_id == 2


def test_scores_are_ordered_and_between_0_and_1(index: SimilarityIndex) -> None:
    hits = index.search("the camera crashes", k=len(ALL_POSTS))
    scores = [hit.score for hit in hits]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 < score <= 1.0 for score in scores)
    assert len({hit.doc_id for hit in hits}) == len(hits)


def test_a_copy_of_a_post_scores_near_1(index: SimilarityIndex) -> None:
    title, body = ENGLISH[3]
    top = index.search(f"{title}\n{body}", k=1)[0]
    assert top.doc_id == 3
    assert top.score > 0.9


@pytest.mark.parametrize("query", ["", "   ", "\n\t"])
def test_blank_query_returns_nothing(index: SimilarityIndex, query: str) -> None:
    assert index.search(query) == []


def test_exclude_leaves_out_the_given_posts(index: SimilarityIndex) -> None:
    hits = index.search("Wi-Fi keeps disconnecting", k=5, exclude={2, 102})
    assert hits
    assert {2, 102}.isdisjoint(hit.doc_id for hit in hits)


def test_k_limits_the_hits(index: SimilarityIndex) -> None:
    assert len(index.search("phone", k=2)) == 2
    assert index.search("phone", k=0) == []


def test_a_new_post_is_found_right_after_it_is_added() -> None:
    index = build()
    query = "Phone overheats while charging"
    assert all(hit.doc_id != 500 for hit in index.search(query, k=3))
    index.add(500, "Phone gets very hot when charging", "The back is too hot to touch.")
    assert 500 in index
    assert len(index) == len(ALL_POSTS) + 1
    assert index.search(query, k=3)[0].doc_id == 500


def test_removed_post_is_no_longer_found() -> None:
    index = build()
    index.remove(2)
    index.remove(999)  # unknown ids are ignored
    assert 2 not in index
    assert len(index) == len(ALL_POSTS) - 1
    hits = index.search("Wi-Fi keeps disconnecting", k=len(ALL_POSTS))
    assert 2 not in {hit.doc_id for hit in hits}
    assert hits[0].doc_id == 102


def test_adding_an_existing_id_replaces_the_post() -> None:
    index = build()
    index.add(3, "Speaker volume is too low", "Even at maximum volume ringtones are quiet.")
    assert len(index) == len(ALL_POSTS)
    assert index.search("speaker volume too low", k=1)[0].doc_id == 3
    assert 3 not in {hit.doc_id for hit in index.search("Notifications arrive late", k=3)}


@pytest.mark.parametrize("method", METHODS)
def test_every_method_finds_a_post_by_its_title(method: str) -> None:
    index = build(method)
    hits = index.search("Fingerprint sensor does not recognise my finger", k=3)
    assert hits[0].doc_id == 5


def test_unknown_method_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown similarity method"):
        SimilarityIndex("tf-idf")


def test_many_removals_keep_ids_and_scores_right() -> None:
    # Removing most posts renumbers the index's internal slots; results must not change.
    index = SimilarityIndex("hybrid")
    index.add_many((n, f"filler post number {n}", "nothing to see here") for n in range(1000, 1300))
    index.add_many((doc_id, title, body) for doc_id, (title, body) in ALL_POSTS.items())
    before = index.search("GPS location is inaccurate", k=3)
    for n in range(1000, 1300):
        index.remove(n)
    assert len(index) == len(ALL_POSTS)
    after = index.search("GPS location is inaccurate", k=3)
    assert [hit.doc_id for hit in after] == [hit.doc_id for hit in before]
    assert after[0].doc_id == 6
    index.add(7, "GPS location drifts", "The location is wrong in maps.")
    assert 7 in {hit.doc_id for hit in index.search("GPS location is inaccurate", k=3)}


def test_concurrent_adds_and_searches() -> None:
    index = build()

    def add(n: int) -> None:
        index.add(2000 + n, f"Screen flickers after update {n}", "The display flickers.")

    def search(_: int) -> int:
        return len(index.search("screen flickers", k=5))

    with ThreadPoolExecutor(max_workers=4) as pool:
        added = list(pool.map(add, range(100)))
        found = list(pool.map(search, range(100)))
    assert len(added) == 100
    assert all(count == 5 for count in found)
    assert len(index) == len(ALL_POSTS) + 100


def test_tokenize_stems_english_and_splits_chinese_into_bigrams() -> None:
    assert tokenize("The apps are crashing!") == ["app", "crash"]
    assert tokenize("相机崩溃") == ["相机", "机崩", "崩溃"]
    assert tokenize("Ｗｉ－Ｆｉ 断开") == ["wi", "fi", "断开"]


def test_is_cjk_follows_the_main_script() -> None:
    assert is_cjk("Wi-Fi 经常断开连接")
    assert not is_cjk("The app shows 错误 when I open it")
    assert not is_cjk("12345")
