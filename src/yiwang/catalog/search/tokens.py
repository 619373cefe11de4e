"""Our own search tokens, built in Python so SQLite and PostgreSQL index exactly the same thing.

Neither database can tokenize Chinese usefully: FTS5's trigram tokenizer finds nothing under three
characters and pg_trgm ignores CJK. So a published guide becomes a bag of plain tokens, stored as
one space-separated string and indexed verbatim by FTS5 (SQLite) or a tsvector (PostgreSQL):

- every CJK character and every pair of adjacent CJK characters (unigrams + bigrams), so one- and
  two-character words (证, 社保, 护照) are found and longer words are an AND of their bigrams;
- lower-cased latin/digit words as they are (ICP, 12345);
- for the name and aliases only, a second copy prefixed ``n_`` (the ranking tells a name match
  from a mention in the body), plus pinyin: syllable unigrams/bigrams ``n_p_shebao`` and initial
  unigrams/bigrams ``n_i_sb``, so ``shebao``, ``sb``, ``huzhao`` and ``hz`` find 社保 and 护照;
- the item code as ``c_<code>`` so a code or a code prefix finds its item;
- ``x_`` + each whole name, its pinyin and its initials, for the ranking (exact, then prefix);
- the filter values as ``f_`` tokens (``f_r_350100`` on every item at or below 福州市), so a
  filtered search is still one index lookup.

A query goes through the same functions and becomes a small AND/OR tree of these tokens
(``Expr``), rendered as an FTS5 MATCH string or a tsquery by ``backends``.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pypinyin import lazy_pinyin

MAX_QUERY_CHARS = 100
MAX_QUERY_WORDS = 12
MAX_VARIANTS_PER_WORD = 8
MAX_LATIN_WORD = 32
NAME_PREFIX = "n_"
PINYIN_PREFIX = "n_p_"
BODY_PINYIN_PREFIX = "p_"  # pinyin of every text, name and guide alike
INITIALS_PREFIX = "n_i_"
CODE_PREFIX = "c_"
WHOLE_PREFIX = "x_"
REGION_FILTER = "f_r_"
DEPARTMENT_FILTER = "f_d_"
TYPE_FILTER = "f_t_"
LEVEL_FILTER = "f_l_"
AUDIENCE_FILTER = "f_a_"
NAME_TIER_PREFIXES = (NAME_PREFIX, CODE_PREFIX, WHOLE_PREFIX, "f_")

# CJK Unified Ideographs, extension A and the compatibility block: the characters the FTS5
# unicode61 tokenizer treats as letters, so a token made of them is never split by the database.
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_WORD_RE = re.compile(rf"[{_CJK}]+|[a-z0-9]+")
_CJK_RE = re.compile(rf"[{_CJK}]+")

# Toneless syllables as pypinyin writes them (ü as v). Interjection readings (m, n, ng, hm, hng)
# are left out: they would let almost any string of consonants pass for pinyin.
_SYLLABLE_TEXT = """
    a ai an ang ao ba bai ban bang bao bei ben beng bi bian biang biao bie bin bing bo bong bu ca cai
    can cang cao ce cei cen ceng cha chai chan chang chao che chen cheng chi chong chou chu chua chuai
    chuan chuang chui chun chuo ci cong cou cu cuan cui cun cuo da dai dan dang dao de dei den deng di
    dia dian diao die din ding diu dong dou du duan dui dun duo e ei en eng er fa fan fang fei fen feng
    fiao fo fou fu ga gai gan gang gao ge gei gen geng gong gou gu gua guai guan guang gui gun guo ha
    hai han hang hao he hei hen heng hong hou hu hua huai huan huang hui hun huo ji jia jian jiang jiao
    jie jin jing jiong jiu ju juan jue jun ka kai kan kang kao ke kei ken keng kong kou ku kua kuai kuan
    kuang kui kun kuo la lai lan lang lao le lei len leng li lia lian liang liao lie lin ling liu lo
    long lou lu luan lue lve lun luo lv ma mai man mang mao me mei men meng mi mian miao mie min ming
    miu mo mou mu na nai nan nang nao ne nei nen neng ni nia nian niang niao nie nin ning niu nong nou
    nu nuan nue nve nun nuo nv o ou pa pai pan pang pao pei pen peng pi pian piao pie pin ping po pou
    pu qi qia qian qiang qiao qie qin qing qiong qiu qu quan que qun ran rang rao re ren reng ri rong
    rou ru rua ruan rui run ruo sa sai san sang sao se sen seng sha shai shan shang shao she shei shen
    sheng shi shou shu shua shuai shuan shuang shui shun shuo si song sou su suan sui sun suo ta tai
    tan tang tao te tei teng ti tian tiao tie ting tong tou tu tuan tui tun tuo wa wai wan wang wei
    wen weng wo wong wu xi xia xian xiang xiao xie xin xing xiong xiu xu xuan xue xun ya yan yang yao
    ye yi yin ying yo yong you yu yuan yue yun za zai zan zang zao ze zei zen zeng zha zhai zhan zhang
    zhao zhe zhei zhen zheng zhi zhong zhou zhu zhua zhuai zhuan zhuang zhui zhun zhuo zi zong zou zu
    zuan zui zun zuo
"""
PINYIN_SYLLABLES = frozenset(_SYLLABLE_TEXT.split())
_SYLLABLE_PREFIXES = frozenset(s[:i] for s in PINYIN_SYLLABLES for i in range(1, len(s) + 1))
_MAX_SYLLABLE = max(map(len, PINYIN_SYLLABLES))


# Pinyin typed with tone marks (lǚ, nǚ, shè) reads as toneless pinyin, ü as v like pypinyin.
_TONES = str.maketrans("āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü", "aaaaeeeeiiiioooouuuuvvvvv")


def normalize(text: str) -> str:
    """NFKC (full-width letters and digits become ASCII), lower case, tone marks dropped."""
    return unicodedata.normalize("NFKC", text or "").lower().translate(_TONES)


def words(text: str) -> list[str]:
    """CJK runs and latin/digit runs of normalised text; everything else separates words."""
    return _WORD_RE.findall(normalize(text))


def is_cjk(word: str) -> bool:
    return bool(word) and _CJK_RE.fullmatch(word) is not None


def ngrams(run: Sequence[str]) -> list[str]:
    """Unigrams and adjacent bigrams of a sequence of characters or syllables."""
    grams = list(run)
    grams.extend(a + b for a, b in zip(run, run[1:], strict=False))
    return grams


def query_grams(run: Sequence[str]) -> list[str]:
    """What a query word must contain: itself if one unit long, otherwise its bigrams."""
    if len(run) <= 1:
        return list(run)
    return _dedupe(a + b for a, b in zip(run, run[1:], strict=False))


def _dedupe(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


@functools.lru_cache(maxsize=65536)
def text_tokens(text: str) -> frozenset[str]:
    """Plain tokens of a text: CJK unigrams + bigrams, latin/digit words. Cached: most body text
    (legal basis, materials) repeats across the implementations of one standard item."""
    tokens: set[str] = set()
    for word in words(text):
        if is_cjk(word):
            tokens.update(ngrams(word))
        elif len(word) <= MAX_LATIN_WORD:
            tokens.add(word)
    return frozenset(tokens)


@functools.lru_cache(maxsize=65536)
def pinyin_of(run: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Toneless syllables and initials of a CJK run, read in context (银行 hang, 行走 xing)."""
    syllables = tuple(s for s in lazy_pinyin(run, errors="ignore") if s.isascii() and s.isalpha())
    if len(syllables) != len(run):  # a character pypinyin does not know: keep positions aligned
        syllables = tuple(_char_pinyin(c) for c in run)
    initials = tuple(s[0] for s in syllables if s)
    return syllables, initials


@functools.lru_cache(maxsize=32768)
def _char_pinyin(char: str) -> str:
    found = lazy_pinyin(char, errors="ignore")
    return found[0] if found and found[0].isascii() and found[0].isalpha() else ""


@functools.lru_cache(maxsize=65536)
def name_tokens(text: str) -> frozenset[str]:
    """Tokens of a name or alias: its plain tokens, the same prefixed n_, and its pinyin."""
    plain = text_tokens(text)
    tokens = set(plain)
    tokens.update(NAME_PREFIX + t for t in plain)
    for run in _CJK_RE.findall(normalize(text)):
        syllables, initials = pinyin_of(run)
        syllables = tuple(s for s in syllables if s)
        tokens.update(PINYIN_PREFIX + g for g in ngrams(syllables))
        tokens.update(INITIALS_PREFIX + g for g in ngrams(initials))
    return frozenset(tokens)


@functools.lru_cache(maxsize=65536)
def pinyin_tokens(text: str) -> frozenset[str]:
    """``p_`` + the pinyin syllable bigrams of every CJK run of a text (name or guide): ``shebao``
    then finds a guide that mentions 社保 wherever 社保 finds it. No single syllables: one
    syllable (bao) stands for dozens of characters, and they would add a third to the index."""
    tokens: set[str] = set()
    for run in _CJK_RE.findall(normalize(text)):
        syllables = [s for s in pinyin_of(run)[0] if s]
        tokens.update(BODY_PINYIN_PREFIX + a + b for a, b in zip(syllables, syllables[1:], strict=False))
    return frozenset(tokens)


@functools.lru_cache(maxsize=65536)
def whole_name_tokens(text: str) -> frozenset[str]:
    """``x_`` + the whole name, its full pinyin and its initials: the ranking puts a name equal
    to the query (x_护照, x_huzhao, x_hz) first and one starting with it (prefix query) next."""
    words_ = words(text)
    if not words_:
        return frozenset()
    syllables: list[str] = []
    initials: list[str] = []
    for word in words_:
        if is_cjk(word):
            s, i = pinyin_of(word)
            syllables.extend(s)
            initials.extend(i)
        else:
            syllables.append(word)
            initials.append(word)
    return frozenset(WHOLE_PREFIX + w for w in ("".join(words_), "".join(syllables), "".join(initials)) if w)


def filter_tokens(
    *,
    region_path: str,
    department_id: int,
    item_type: str,
    for_person: bool,
    for_company: bool,
    region_level: int,
) -> list[str]:
    """Filters as tokens, so a filtered search is one index lookup (an AND of doclists) on both
    databases. A region's token is on every item at or below it: region_path lists ancestors."""
    tokens = [REGION_FILTER + code for code in region_path.strip("/").split("/") if code]
    tokens += [
        f"{DEPARTMENT_FILTER}{department_id}",
        f"{TYPE_FILTER}{item_type}",
        f"{LEVEL_FILTER}{region_level}",
    ]
    if for_person:
        tokens.append(AUDIENCE_FILTER + "person")
    if for_company:
        tokens.append(AUDIENCE_FILTER + "company")
    return tokens


@dataclass(frozen=True)
class Document:
    """What the index stores for one published item."""

    tokens: list[str]

    @property
    def name_tokens(self) -> list[str]:
        """The tokens the name-tier queries use: name words, pinyin, whole names, code, filters."""
        return [t for t in self.tokens if t.startswith(NAME_TIER_PREFIXES)]


def document(
    *, code: str, name: str, aliases: Iterable[str], body: Iterable[str], filters: Iterable[str] = ()
) -> Document:
    tokens: set[str] = set(filters)
    titles = [name, *[a for a in aliases if a and a.strip()]]
    for title in titles:
        tokens |= name_tokens(title)
        tokens |= whole_name_tokens(title)
        tokens |= pinyin_tokens(title)
    for text in body:
        if text:
            tokens |= text_tokens(text)
            tokens |= pinyin_tokens(text)
    if code:
        tokens.add(CODE_PREFIX + normalize(code))
    return Document(tokens=sorted(tokens))


# --- queries ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tok:
    text: str
    prefix: bool = False


@dataclass(frozen=True)
class And:
    parts: tuple[Expr, ...]


@dataclass(frozen=True)
class Or:
    parts: tuple[Expr, ...]


@dataclass(frozen=True)
class Not:
    """``base`` and not ``excluded`` (FTS5's binary NOT; ``&  !`` in a tsquery)."""

    base: Expr
    excluded: Expr


Expr = Tok | And | Or | Not


def all_of(parts: Iterable[Expr]) -> Expr:
    flat = [q for p in parts for q in (p.parts if isinstance(p, And) else (p,))]
    unique = tuple(dict.fromkeys(flat))
    return unique[0] if len(unique) == 1 else And(unique)


def any_of(parts: Iterable[Expr]) -> Expr:
    unique = tuple(dict.fromkeys(parts))
    return unique[0] if len(unique) == 1 else Or(unique)


def pinyin_segmentations(word: str, limit: int = 4) -> list[tuple[list[str], bool]]:
    """Ways to read a latin word as toneless pinyin: (syllables, last_is_partial).

    ``shebao`` is she+bao; ``shebaok`` is she+bao+k… (the user is still typing). A partial
    syllable is only allowed at the end. At most ``limit`` readings, longest syllables first.
    """
    word = re.sub(r"(?<=[ln])ue", "ve", word.replace("u:", "v"))
    found: list[tuple[list[str], bool]] = []

    def walk(start: int, acc: list[str]) -> None:
        if len(found) >= limit:
            return
        if start == len(word):
            found.append((list(acc), False))
            return
        for end in range(min(len(word), start + _MAX_SYLLABLE), start, -1):
            piece = word[start:end]
            if piece in PINYIN_SYLLABLES:
                acc.append(piece)
                walk(end, acc)
                acc.pop()
        rest = word[start:]
        if rest in _SYLLABLE_PREFIXES and rest not in PINYIN_SYLLABLES and len(found) < limit:
            found.append(([*acc, rest], True))

    walk(0, [])
    return found


@dataclass
class ParsedQuery:
    """A sanitised query: what to match anywhere, what to match in the name, what to rank by."""

    words: list[str] = field(default_factory=list)
    expanded_terms: list[str] = field(default_factory=list)
    any_expr: Expr | None = None
    name_expr: Expr | None = None
    phrases: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.any_expr is None

    def tiers(self, filters: Sequence[str] = ()) -> list[Expr]:
        """The ranking tiers as token expressions, best first (see ``query``): the name equals
        the query; the name starts with it; the rest of the name matches; body-only matches."""
        assert self.any_expr is not None and self.name_expr is not None
        exact = any_of(Tok(WHOLE_PREFIX + p) for p in self.phrases)
        prefix = any_of(Tok(WHOLE_PREFIX + p, prefix=True) for p in self.phrases)
        scope = [Tok(f) for f in filters]
        named = all_of([*scope, self.name_expr])
        return [
            all_of([named, exact]),
            Not(all_of([named, prefix]), exact),
            Not(named, prefix),
            Not(all_of([*scope, self.any_expr]), self.name_expr),
        ]


@dataclass(frozen=True)
class RegionTier:
    """One step of the region preference as tokens: rows matching ``include`` (all rows when
    None) and not ``exclude``."""

    name: str
    include: Expr | None = None
    exclude: Expr | None = None

    def apply(self, expr: Expr) -> Expr:
        if self.include is not None:
            expr = all_of([expr, self.include])
        if self.exclude is not None:
            expr = Not(expr, self.exclude)
        return expr


def region_tiers(region: tuple[str, int], ancestors: Sequence[tuple[str, int]]) -> list[RegionTier]:
    """The preferred region (code, level), then its ancestors, then the regions below it, then
    the rest. An item's region is exactly R when it has R's token ``f_r_R`` (on every item at or
    below R) and R's level: no region below R has R's level. So the existing filter tokens
    express every tier and the index needs nothing more."""
    code, level = region
    own = all_of([Tok(REGION_FILTER + code), Tok(f"{LEVEL_FILTER}{level}")])
    above = [all_of([Tok(REGION_FILTER + c), Tok(f"{LEVEL_FILTER}{lvl}")]) for c, lvl in ancestors]
    tiers = [RegionTier("own", include=own)]
    if above:
        tiers.append(RegionTier("parents", include=any_of(above)))
    tiers.append(
        RegionTier("children", include=Tok(REGION_FILTER + code), exclude=Tok(f"{LEVEL_FILTER}{level}"))
    )
    tiers.append(RegionTier("others", exclude=any_of([Tok(REGION_FILTER + code), *above])))
    return tiers


def _term_expr(term: str, prefix: str) -> Expr:
    """A synonym variant may itself hold latin words (ETC, 12345): each word is required."""
    parts: list[Expr] = []
    for word in words(term):
        if is_cjk(word):
            parts.extend(Tok(prefix + g) for g in query_grams(word))
        else:
            parts.append(Tok(prefix + word[:MAX_LATIN_WORD]))
    return all_of(parts)


def _cjk_expr(variants: Sequence[str], prefix: str) -> Expr:
    return any_of(_term_expr(v, prefix) for v in variants if words(v))


def _latin_alternatives(word: str) -> tuple[Expr, Expr]:
    """(anywhere, in name) expressions for a latin/digit word."""
    anywhere: list[Expr] = [Tok(word)]
    in_name: list[Expr] = [Tok(NAME_PREFIX + word)]
    if word.isdigit():
        if len(word) >= 4:
            code = Tok(CODE_PREFIX + word, prefix=True)
            anywhere.append(code)
            in_name.append(code)
        return any_of(anywhere), any_of(in_name)
    if not word.isalpha():
        return any_of(anywhere), any_of(in_name)
    readings = pinyin_segmentations(word)
    complete = any(not partial for _, partial in readings)
    if complete:
        # A word that reads as whole syllables was typed to the end: the still-typing readings
        # (shenfenzhen + g...) would only add costly prefix lookups.
        readings = [r for r in readings if not r[1]]
    pinyin: list[Expr] = []
    for syllables, partial in readings:
        grams = query_grams(syllables)
        if len(syllables) == 1:
            pinyin.append(Tok(PINYIN_PREFIX + grams[0], prefix=partial))
        else:
            parts = [Tok(PINYIN_PREFIX + g) for g in grams[:-1]]
            parts.append(Tok(PINYIN_PREFIX + grams[-1], prefix=partial))
            pinyin.append(all_of(parts))
        if not partial and len(syllables) > 1:
            # The same syllables in any text (p_ tokens): shebao finds a guide mentioning 社保.
            anywhere.append(all_of(Tok(BODY_PINYIN_PREFIX + g) for g in grams))
    if not complete and len(word) <= 12:
        # No complete pinyin reading: read it as initials (sb 社保, hz 护照, gjj 公积金).
        pinyin.append(all_of(Tok(INITIALS_PREFIX + g) for g in query_grams(list(word))))
    return any_of(anywhere + pinyin), any_of(in_name + pinyin)


def pinyin_key(text: str) -> str:
    """The toneless syllables of a text run together (社保 -> shebao; latin words as they are)."""
    out: list[str] = []
    for word in words(text):
        out.extend(pinyin_of(word)[0] if is_cjk(word) else [word])
    return "".join(out)


def synonyms_read_as(word: str, synonyms: dict[str, list[str]]) -> list[str]:
    """The synonym groups whose member reads as this latin word (shebao -> 社保 of the group
    社保/社会保险): the members, the one read first. A latin query then finds what the Chinese
    word and its synonyms find, not only the pinyin of names and guides."""
    for member in sorted(synonyms):
        if member and is_cjk(member) and pinyin_key(member) == word:
            return _dedupe([member, *synonyms[member]])[:MAX_VARIANTS_PER_WORD]
    return []


# Words of a question that say nothing about which item is meant (怎么办理营业执照). Dropped only
# in the relaxed reading of a query, which is tried when the query as typed finds nothing.
_QUESTION_TEXT = (
    "怎么 怎样 怎么样 怎么办 如何 哪里 在哪 在哪里 在哪儿 哪儿 去哪 去哪里 什么 需要 需 要 我 我要 我想 想 请问 "
    "的 了 吗 呢 吧 啊 呀 办理 办 申请 手续 流程 可以 能 能否 是否 一下 哪些 多少 要求 相关 "
    # Filler of a sentence (我想给刚出生的孩子办户口需要什么材料): every guide lists materials.
    "给 刚 刚刚 帮 替 为 为了 把 被 让 带 去 到 在 和 与 及 或 还 还要 还是 应该 必须 得 该 有 没有 "
    "一个 这个 那个 这 那 时 时候 以后 之后 现在 今天 材料 资料 东西 准备 提供 提交 所需 带什么 "
    "你好 您好 谢谢 麻烦 咨询 问 问一下 知道 告诉"
)
QUESTION_WORDS = frozenset(_QUESTION_TEXT.split())


def relaxed_words(query_words: Sequence[str]) -> list[str]:
    """Dictionary words (rjieba) of the CJK words, without question words: 怎么办理营业执照 ->
    营业执照. Each word is then matched on its own, not as one chain of bigrams."""
    import rjieba

    out: list[str] = []
    for word in query_words:
        if not is_cjk(word):
            out.append(word)
            continue
        out.extend(w for w in map(_strip_filler, rjieba.cut(word)) if w.strip() and w not in QUESTION_WORDS)
    return _dedupe(out)[:MAX_QUERY_WORDS]


def _strip_filler(word: str) -> str:
    """A dictionary word without filler characters at its ends (刚出生 -> 出生)."""
    while len(word) > 2 and word[0] in QUESTION_WORDS:
        word = word[1:]
    while len(word) > 2 and word[-1] in QUESTION_WORDS:
        word = word[:-1]
    return word


def parse_query(
    q: str | None, synonyms: dict[str, list[str]] | None = None, *, relaxed: bool = False
) -> ParsedQuery:
    """Turn whatever a person typed into token expressions. Never raises: anything that is not a
    CJK character, a latin letter or a digit (quotes, *, :, parentheses) only separates words, and
    FTS operators (AND, OR, NEAR) become ordinary words. ``relaxed``: see ``relaxed_words``."""
    synonyms = synonyms or {}
    text = normalize((q or "")[: MAX_QUERY_CHARS * 2])[:MAX_QUERY_CHARS]
    query_words = _dedupe(words(text))[:MAX_QUERY_WORDS]
    if relaxed:
        query_words = relaxed_words(query_words)
    parsed = ParsedQuery(words=query_words)
    if not query_words:
        return parsed
    any_parts: list[Expr] = []
    name_parts: list[Expr] = []
    phrase_variants: list[list[str]] = []
    for word in query_words:
        if is_cjk(word):
            variants = expand_with_synonyms(word, synonyms)
            parsed.expanded_terms.extend(v for v in variants[1:] if v not in parsed.expanded_terms)
            any_parts.append(_cjk_expr(variants, ""))
            name_parts.append(_cjk_expr(variants, NAME_PREFIX))
            phrase_variants.append(variants)
        else:
            anywhere, in_name = _latin_alternatives(word[:MAX_LATIN_WORD])
            read_as = synonyms_read_as(word, synonyms) if word.isalpha() else []
            if read_as:
                parsed.expanded_terms.extend(v for v in read_as if v not in parsed.expanded_terms)
                anywhere = any_of([anywhere, _cjk_expr(read_as, "")])
                in_name = any_of([in_name, _cjk_expr(read_as, NAME_PREFIX)])
            any_parts.append(anywhere)
            name_parts.append(in_name)
            phrase_variants.append([word, *read_as])
    parsed.any_expr = all_of(any_parts)
    parsed.name_expr = all_of(name_parts)
    phrases = ["".join(v[0] for v in phrase_variants)]
    for i, variants in enumerate(phrase_variants):
        for alt in variants[1:]:
            phrases.append("".join(alt if j == i else v[0] for j, v in enumerate(phrase_variants)))
    parsed.phrases = _dedupe(phrases)[:MAX_VARIANTS_PER_WORD]
    return parsed


def expand_with_synonyms(word: str, synonyms: dict[str, list[str]]) -> list[str]:
    """The word, then the word with each synonym group member it contains replaced by the
    group's other members (社保卡 -> 社会保险卡). ``synonyms`` maps a member to its whole group."""
    variants = [word]
    for member in sorted(synonyms, key=len, reverse=True):
        if member and member in word:
            for other in synonyms[member]:
                if other != member:
                    variants.append(word.replace(member, other))
        if len(variants) >= MAX_VARIANTS_PER_WORD:
            break
    return _dedupe(variants)[:MAX_VARIANTS_PER_WORD]
