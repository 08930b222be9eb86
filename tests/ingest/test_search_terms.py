"""The lexical index's terms: every script becomes searchable words, and a query meets the text it names."""

from vaultrag.ingest.search_terms import terms


def test_english_words_are_stemmed_and_stop_words_dropped():
    assert terms("The studies of running") == ["studi", "run"]
    assert terms("Study RUNS") == ["studi", "run"]


def test_chinese_becomes_overlapping_character_pairs_so_a_word_inside_a_sentence_matches():
    sentence = terms("我明天去东京都看樱花")
    assert "东京" in sentence and "樱花" in sentence
    assert set(terms("樱花")) <= set(sentence)


def test_japanese_kana_and_kanji_mixed_with_latin():
    found = terms("今日はPythonで機械学習")
    assert "python" in found and "機械" in found and "学習" in found


def test_thai_and_khmer_keep_vowel_signs_on_their_letters():
    thai = terms("ภาษาไทยง่าย")  # "the Thai language is easy", written without spaces
    assert set(terms("ภาษา")) <= set(thai)
    khmer = terms("ភាសាខ្មែរ")  # "Khmer language"
    assert set(terms("ខ្មែរ")) <= set(khmer)


def test_a_single_character_query_is_kept():
    assert terms("猫") == ["猫"]


def test_accents_and_other_alphabets_are_words():
    assert terms("Café crème") == ["café", "crème"]
    assert terms("Привет мир") == ["привет", "мир"]
