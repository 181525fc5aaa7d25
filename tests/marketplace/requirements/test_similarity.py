"""Near-duplicate detection, measured on the labelled pairs (Chinese, English and mixed texts)."""

from __future__ import annotations

from marketplace.requirements.labelled_pairs import DOCUMENTS, PAIRS

from souk_marketplace.requirements.similarity import DUPLICATE_THRESHOLD, SimilarityIndex, terms

# Measured at DUPLICATE_THRESHOLD = 0.30 when the threshold was chosen: precision 0.893 (25 of 28 flagged
# pairs are duplicates), recall 0.833 (25 of 30 duplicates found; 3 of the 5 missed cross languages with no
# shared word). The threshold was tuned on this same set, so expect somewhat less on new texts.
PRECISION_FLOOR = 0.85
RECALL_FLOOR = 0.80


def test_precision_and_recall_on_the_labelled_pairs_stay_above_the_measured_floor():
    assert len(PAIRS) >= 40
    index = SimilarityIndex((key, title, description) for key, (title, description) in DOCUMENTS.items())
    flagged = [(index.score(a, b) >= DUPLICATE_THRESHOLD, duplicate) for a, b, duplicate in PAIRS]
    true_positives = sum(1 for hit, duplicate in flagged if hit and duplicate)
    precision = true_positives / sum(1 for hit, _ in flagged if hit)
    recall = true_positives / sum(1 for _, duplicate in flagged if duplicate)
    print(
        f"\nnear-duplicates at threshold {DUPLICATE_THRESHOLD}: precision {precision:.3f}, recall {recall:.3f} "
        f"({len(PAIRS)} pairs, {sum(d for *_, d in PAIRS)} duplicates)"
    )
    assert precision >= PRECISION_FLOOR
    assert recall >= RECALL_FLOOR


def test_chinese_is_cut_into_characters_and_bigrams_and_english_into_words_and_trigrams():
    assert terms("发优惠券") == ["发", "优", "惠", "券", "发优", "优惠", "惠券"]
    english = terms("Coupons for the members")
    assert "w:coupon" in english and "w:member" in english and "w:the" not in english
    assert "t:<co" in english
    assert "w:sku" in terms("按SKU限购")  # Latin words inside Chinese text stay words


def test_the_index_finds_the_same_need_and_not_a_neighbouring_one():
    index = SimilarityIndex((key, *DOCUMENTS[key]) for key in DOCUMENTS)
    title, description = "积分过期提醒", "会员的积分快要到期了，提前发短信提醒会员使用积分。"
    found = [m.key for m in index.similar_to(title, description, threshold=DUPLICATE_THRESHOLD, limit=5)]
    assert found and found[0].startswith("points_expiry_zh")
    assert "points_mall_zh" not in found
    pairs = {(a, b) for a, b, _ in index.pairs(threshold=DUPLICATE_THRESHOLD, limit=500)}
    assert ("invoice_zh_1", "invoice_zh_2") in pairs
