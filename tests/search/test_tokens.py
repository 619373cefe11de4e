"""The tokenizer alone: no database."""

from __future__ import annotations

from yiwang.catalog.search import tokens as tk
from yiwang.catalog.search.query import render_fts5, render_tsquery


def test_cjk_unigrams_and_bigrams():
    assert tk.text_tokens("社保卡") == {"社", "保", "卡", "社保", "保卡"}


def test_punctuation_and_fullwidth_split_and_fold():
    assert tk.words("《护照法》第１２条，ＩＣＰ备案") == ["护照法", "第", "12", "条", "icp", "备案"]


def test_name_tokens_carry_prefix_and_pinyin():
    tokens = tk.name_tokens("社保卡申领")
    assert {"社保", "n_社保", "n_p_shebao", "n_p_she", "n_i_sb", "n_i_s"} <= tokens
    assert "n_p_shebaoka" not in tokens  # only syllable unigrams and bigrams


def test_pinyin_is_read_in_context():
    assert tk.pinyin_of("银行")[0] == ("yin", "hang")
    assert "n_p_yinhang" in tk.name_tokens("银行开户")


def test_document_tokens():
    filters = tk.filter_tokens(
        region_path="350000/350100/350102/",
        department_id=7,
        item_type="licensing",
        for_person=True,
        for_company=False,
        region_level=3,
    )
    assert filters == [
        "f_r_350000",
        "f_r_350100",
        "f_r_350102",
        "f_d_7",
        "f_t_licensing",
        "f_l_3",
        "f_a_person",
    ]
    doc = tk.document(
        code="0123",
        name="普通护照签发",
        aliases=["护照办理"],
        body=["居民身份证", "", "ICP"],
        filters=filters,
    )
    assert "护照" in doc.tokens and "n_护照" in doc.tokens and "n_p_huzhao" in doc.tokens
    assert "身份" in doc.tokens and "n_身份" not in doc.tokens  # body words are not name words
    assert "icp" in doc.tokens and "c_0123" in doc.tokens
    assert {"x_普通护照签发", "x_putonghuzhaoqianfa", "x_pthzqf", "x_护照办理", "x_hzbl"} <= set(doc.tokens)
    assert doc.tokens == sorted(set(doc.tokens))
    assert set(filters) <= set(doc.name_tokens)
    assert "n_护照" in doc.name_tokens and "身份" not in doc.name_tokens


def test_tiers_are_exclusive_token_expressions():
    parsed = tk.parse_query("护照")
    exact, prefix, rest, body = parsed.tiers(["f_r_350100"])
    assert exact == tk.And((tk.Tok("f_r_350100"), tk.Tok("n_护照"), tk.Tok("x_护照")))
    assert prefix == tk.Not(
        tk.And((tk.Tok("f_r_350100"), tk.Tok("n_护照"), tk.Tok("x_护照", prefix=True))), tk.Tok("x_护照")
    )
    assert render_fts5(body) == '(("f_r_350100" AND "护照") NOT "n_护照")'
    assert render_tsquery(body) == "(('f_r_350100' & '护照') & !'n_护照')"


def test_query_one_and_two_characters():
    assert tk.parse_query("证").any_expr == tk.Tok("证")
    assert tk.parse_query("护照").name_expr == tk.Tok("n_护照")
    longer = tk.parse_query("身份证")
    assert longer.any_expr == tk.And((tk.Tok("身份"), tk.Tok("份证")))


def test_pinyin_segmentation():
    assert (["she", "bao"], False) in tk.pinyin_segmentations("shebao")
    assert (["hu", "zhao"], False) in tk.pinyin_segmentations("huzhao")
    assert tk.pinyin_segmentations("shebaok")[0] == (["she", "bao", "k"], True)
    assert tk.pinyin_segmentations("sb") == []
    assert tk.pinyin_segmentations("hz") == []


def test_pinyin_and_initials_queries():
    assert tk.Tok("n_p_shebao") in tk.parse_query("shebao").any_expr.parts
    assert tk.Tok("n_i_sb") in tk.parse_query("SB").any_expr.parts
    assert tk.Tok("n_i_hz") in tk.parse_query("hz").any_expr.parts
    # A complete pinyin reading exists, so the word is not also read as initials.
    assert not any("n_i_" in render_fts5(p) for p in tk.parse_query("huzhao").any_expr.parts)


def test_synonym_expansion_replaces_contained_member():
    groups = {"社保": ["社保", "社会保险"], "社会保险": ["社保", "社会保险"]}
    parsed = tk.parse_query("社保卡", groups)
    assert parsed.expanded_terms == ["社会保险卡"]
    assert parsed.phrases == ["社保卡", "社会保险卡"]
    assert isinstance(parsed.any_expr, tk.Or)


def test_hostile_input_is_sanitised():
    for q in [
        '"',
        "*",
        "a:b",
        "(社保) OR NEAR(x y)",
        "'); DROP TABLE x; --",
        "\x00\u200b",
        "^*-+",
        "中" * 500,
    ]:
        parsed = tk.parse_query(q)
        if parsed.any_expr is None:
            continue
        fts, tsq = render_fts5(parsed.any_expr), render_tsquery(parsed.any_expr)
        # Every token is a plain word; quotes only delimit our own tokens.
        for token in _tokens(parsed.any_expr):
            assert all(c.isalnum() or c == "_" for c in token.text), token
        assert fts.count('"') % 2 == 0 and tsq.count("'") % 2 == 0
    assert len(tk.parse_query("中" * 500).words[0]) == tk.MAX_QUERY_CHARS
    assert tk.parse_query("*:()'\"").empty


def _tokens(expr):
    if isinstance(expr, tk.Tok):
        yield expr
    else:
        for part in expr.parts:
            yield from _tokens(part)


def test_pinyin_of_every_text_is_indexed_as_syllable_bigrams():
    doc = tk.document(code="X1", name="退休待遇核定", aliases=[], body=["参保人员的社保缴费记录"])
    assert "p_shebao" in doc.tokens and "p_tuixiu" in doc.tokens
    assert "p_she" not in doc.tokens  # no single syllables
    assert "p_shebao" not in doc.name_tokens  # PostgreSQL's name_tsv keeps the name tier only
    parsed = tk.parse_query("shebao")
    assert tk.Tok("p_shebao") in parsed.any_expr.parts
    assert tk.Tok("p_shebao") not in parsed.name_expr.parts
    assert '"p_shi"' not in render_fts5(tk.parse_query("shi").any_expr)  # one syllable: names only


def test_a_latin_word_read_as_a_synonym_searches_the_group():
    groups = {"社保": ["社保", "社会保险"], "社会保险": ["社保", "社会保险"]}
    parsed = tk.parse_query("shebao", groups)
    assert parsed.expanded_terms == ["社保", "社会保险"]
    rendered = render_fts5(parsed.any_expr)
    assert '"社保"' in rendered and '"社会" AND "会保" AND "保险"' in rendered
    assert tk.parse_query("huzhao", groups).expanded_terms == []
