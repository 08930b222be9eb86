"""Reciprocal rank fusion and the per-note cap, on hand-made rankings whose right answer is worked out below."""

from vaultrag.service.search.fusion import cap_per_note, fuse_by_note, reciprocal_rank_fusion


def test_an_item_high_in_both_lists_beats_one_in_a_single_list():
    # a: 1/61 + 1/62 = 0.03252; c: 1/63 + 1/61 = 0.03227; b: 1/62 = 0.01613
    fused = reciprocal_rank_fusion([(["a", "b", "c"], 1.0), (["c", "a"], 1.0)])
    assert list(fused) == ["a", "c", "b"]
    assert abs(fused["a"] - (1 / 61 + 1 / 62)) < 1e-12


def test_a_weight_scales_its_list():
    # y: 1/62 + w/61 against x: 1/61. With w = 1, y wins (0.0326 > 0.0164); with w = 0.01 it does not (0.01629).
    assert list(reciprocal_rank_fusion([(["x", "y"], 1.0), (["y"], 1.0)])) == ["y", "x"]
    assert list(reciprocal_rank_fusion([(["x", "y"], 1.0), (["y"], 0.01)])) == ["x", "y"]


def test_cap_keeps_the_best_chunks_of_each_note_in_order():
    note = {"a1": "A", "a2": "A", "a3": "A", "b1": "B", "a4": "A", "c1": "C"}
    assert cap_per_note(["a1", "a2", "a3", "b1", "a4", "c1"], note.__getitem__, 2) == ["a1", "a2", "b1", "c1"]
    assert cap_per_note(["a1", "a2", "a3"], note.__getitem__, 0) == ["a1", "a2", "a3"]


def test_two_lists_preferring_different_chunks_of_one_note_both_count_for_it():
    # dense ranks note A's chunk a2 first, BM25 ranks A's chunk a1 first; note B is second in both lists.
    note = {"a1": "A", "a2": "A", "b1": "B", "c1": "C"}.__getitem__
    ids = [(["a2", "b1", "c1"], 1.0), (["a1", "b1"], 1.0)]
    by_chunk = reciprocal_rank_fusion(ids)
    assert list(by_chunk)[0] == "b1"  # chunk ids alone: b1 (2/62) beats a2 and a1 (1/61 each)
    by_note = fuse_by_note([([(i, 0.0) for i in chunks], w) for chunks, w in ids], note, "rrf")
    assert list(by_note)[:2] == ["a2", "b1"]  # a2 and a1 tie on their own; the first list's wins
    assert abs(by_note["a2"] - 2 / 61) < 1e-12  # A's best chunk carries A's score: first in both lists
    assert by_note["a1"] == by_chunk["a1"]  # A's other chunk keeps only its own evidence


def test_score_fusion_uses_how_far_ahead_a_hit_is():
    # dense: x 0.90, y 0.89, z 0.50 -> scaled 1.0, 0.975, 0.0; bm25: y 12, x 2, z 1 -> scaled 1.0, 0.0909, 0.0.
    # RRF sees x and y as first and second once each (a tie); scores see y nearly first in dense too.
    note = {"x": "X", "y": "Y", "z": "Z"}.__getitem__
    lists = [([("x", 0.90), ("y", 0.89), ("z", 0.50)], 1.0), ([("y", 12.0), ("x", 2.0), ("z", 1.0)], 1.0)]
    fused = fuse_by_note(lists, note, "scores")
    assert list(fused) == ["y", "x", "z"]
    assert abs(fused["y"] - (0.39 / 0.40 + 1.0)) < 1e-9 and abs(fused["x"] - (1.0 + 1 / 11)) < 1e-9
    assert fused["z"] == 0.0
