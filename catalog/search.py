"""Full-text search over catalog resources, for the search field (results page, as-you-type).

What a query means, the same on both databases:

* The text is cut to `MAX_QUERY_LENGTH` characters, and split into words at whitespace. A word is
  split again into parts at punctuation and symbols: "page_url", "page.url" and "page-url" all
  mean the phrase "page url", which is how the index splits the names it holds. Everything but
  letters, marks and digits is dropped, so operators (`* : & | ! ( ) " NEAR AND OR NOT`), NUL
  bytes and lone surrogates are plain separators or plain words, never syntax. At most
  `MAX_TERMS` parts are kept.
* Every word must match (AND), in the title, description or definition; the last part of the
  last word matches as a prefix, so "ord" and "order comp" find "Order Completed" as one types.
* No stemming and no stop words (PostgreSQL's 'simple' configuration, SQLite's unicode61
  tokenizer): names are identifiers, "completed" is found by "comp" but not by "complete", and
  both databases find the same rows. Case is ignored; accents are not ("cafe" doesn't find
  "café").

Results come in tiers: resources whose title matches every word, then those whose title and
description do, then the rest; within a tier by the database's weighted score (PostgreSQL
`ts_rank` with the title's words weighted 1.0, the description's 0.4 and the definition's 0.2;
SQLite `bm25` with column weights 10, 4, 2); then by title and id. `search_rank` is the tier plus
the score squeezed into [0, 1): higher is better; compare it only within one database.

On PostgreSQL at most `MAX_RESULTS` matches are ranked and counted: resources whose title
matches first, then any others, each as the index yields them. Ranking and counting every match
of a word in 70,000 of a million resources costs a heap visit per match (close to a second);
the capped page and count stay near the cost of the index scan. `count()` is exact below
`MAX_RESULTS`; a count of `MAX_RESULTS` means "that many or more" (show "1,000+"). SQLite (the
trial database) ranks and counts every match.

The index itself (a generated tsvector column with a GIN index on PostgreSQL, an FTS5 table
kept by triggers on SQLite) is built by migration 0009_resource_search.
"""

import unicodedata
from collections.abc import Iterable

from django.db import NotSupportedError, connections
from django.db.models import BooleanField, Expression, F, FloatField, QuerySet

from catalog.models import Resource
from catalog.policy import resources_visible_to

__all__ = [
    "MAX_QUERY_LENGTH",
    "MAX_RESULTS",
    "MAX_TERMS",
    "count_is_capped",
    "normalize_query",
    "search_resources",
    "search_terms",
]

#: Longer input is cut: nobody types more, and the query stays cheap.
MAX_QUERY_LENGTH = 200
#: Parts (words, or pieces of a snake_case word) beyond this many are ignored.
MAX_TERMS = 10
#: PostgreSQL ranks and counts at most this many matches (50 pages of 20).
MAX_RESULTS = 1000

#: Tables of the SQLite index (migration 0009).
FTS_TABLE = "catalog_resource_search"
FTS_KEY_TABLE = "catalog_resource_search_key"


def _is_word_char(char: str) -> bool:
    """Letters, marks and digits (and private-use characters) make words; everything else
    (spaces, punctuation, symbols, controls, surrogates) separates them.

    Erring on the side of keeping characters together is safe: a part the database's own
    tokenizer splits further becomes a phrase there, exactly as the indexed text did.
    """
    category = unicodedata.category(char)
    return category[0] in "LMN" or category == "Co"


def _parts(word: str) -> list[str]:
    """The parts of one whitespace-separated word: runs of word characters that hold at least
    one letter or digit (a lone accent is no word)."""
    parts, current = [], []
    for char in [*word, " "]:
        if _is_word_char(char):
            current.append(char)
        elif current:
            part = "".join(current)
            current = []
            if any(unicodedata.category(c)[0] in "LN" for c in part):
                parts.append(part)
    return parts


def search_terms(text) -> list[tuple[str, ...]]:
    """The words of a query, each a tuple of its parts (one part for a plain word; "page_url"
    gives ("page", "url")). Never raises: anything that is not a string counts as empty."""
    if not isinstance(text, str):
        return []
    text = unicodedata.normalize("NFC", text[: MAX_QUERY_LENGTH * 2])[:MAX_QUERY_LENGTH]
    words, count = [], 0
    for chunk in text.split():
        parts = _parts(chunk)[: MAX_TERMS - count]
        if parts:
            words.append(tuple(parts))
            count += len(parts)
        if count >= MAX_TERMS:
            break
    return words


def normalize_query(text) -> str:
    """The text actually searched for: words separated by one space, a word's parts joined by
    "_" ("Page.URL  (ord" -> "Page_URL ord"); "" when nothing searchable is left. Searching the
    normalized text finds the same rows."""
    return " ".join("_".join(parts) for parts in search_terms(text))


# --- query syntax of each database -------------------------------------------------------


def _pg_tsquery(words: list[tuple[str, ...]], weights: str = "", *, hint: bool = False) -> str:
    """`to_tsquery` text: parts of a word as a phrase (<->), words ANDed, the last part a
    prefix (:*), each restricted to `weights` ("A": the title) if given. Parts hold only
    letters, marks and digits; quoting them anyway keeps any character a plain lexeme.

    With `hint`, the prefix is written `('x' | 'x':*)`: the same rows, but PostgreSQL then
    estimates how common the word is from the column's statistics (it can't for a prefix
    alone, and guesses 2% of rows). For a word in most rows it reads the table until the
    LIMIT is reached, a few milliseconds, instead of building a bitmap of a million entries.
    """

    def lexeme(part: str, last: bool) -> str:
        quoted = "'" + part.replace("\\", "\\\\").replace("'", "''") + "'"
        plain = f"{quoted}:{weights}" if weights else quoted
        if not last:
            return plain
        prefix = f"{quoted}:*{weights}"
        return f"({plain} | {prefix})" if hint else prefix

    phrases = []
    for i, parts in enumerate(words):
        last_word = i == len(words) - 1
        phrases.append(
            " <-> ".join(
                lexeme(part, last_word and j == len(parts) - 1) for j, part in enumerate(parts)
            )
        )
    return " & ".join(f"({phrase})" for phrase in phrases)


def _fts5_query(words: list[tuple[str, ...]], columns: str = "") -> str:
    """FTS5 MATCH text: each word a quoted phrase (FTS5 splits "page url" into a phrase), the
    last one a prefix, ANDed, inside a column filter (`{title}`) if given."""
    phrases = ['"' + " ".join(parts).replace('"', '""') + '"' for parts in words]
    phrases[-1] += "*"
    query = " AND ".join(phrases)
    return f"{{{columns}}} : ({query})" if columns else query


class _ResourceSQL(Expression):
    """SQL about the searched resource row; `{table}` stands for its table's alias.

    Unlike RawSQL, the alias follows the query: it is relabeled when the queryset is used as a
    subquery (`pk__in=search_resources(...)`), through the resolved `pk` column it carries.
    """

    def __init__(self, template: str, params, output_field) -> None:
        super().__init__(output_field=output_field)
        self.template, self.params = template, tuple(params)
        self.anchor = F("pk")

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.template!r}, {self.params!r})"

    def get_source_expressions(self):
        return [self.anchor]

    def set_source_expressions(self, exprs) -> None:
        (self.anchor,) = exprs

    def as_sql(self, compiler, connection):
        table = compiler.quote_name_unless_alias(self.anchor.alias)
        return self.template.format(table=table), self.params


#: The indexed expressions of migration 0009, written as there so the planner uses the indexes.
PG_VECTOR = '{table}."search_vector"'
PG_TITLE_VECTOR = (
    "to_tsvector('simple'::regconfig, regexp_replace({table}.\"title\", '[[:punct:]]+', ' ', 'g'))"
)
PG_TSQUERY = "to_tsquery('simple'::regconfig, %s)"


def _postgresql(queryset: QuerySet, words: list[tuple[str, ...]]) -> QuerySet:
    """Rank at most MAX_RESULTS candidates, found through the GIN indexes.

    The candidates are a `UNION ALL` of matching titles (the title index) and matches anywhere
    (the search_vector index), each limited and unordered, under one LIMIT: once the titles
    fill it, PostgreSQL never runs the second scan. Only the candidates' rows are read to rank
    and count them; visibility and kinds apply inside, so a viewer's cap holds only what they
    may see.
    """
    query, hinted = _pg_tsquery(words), _pg_tsquery(words, hint=True)
    queryset = queryset.order_by()  # an ORDER BY under the LIMITs would sort every match
    in_title = queryset.filter(
        _ResourceSQL(f"{PG_TITLE_VECTOR} @@ {PG_TSQUERY}", [hinted], BooleanField())
    )
    anywhere = queryset.filter(
        _ResourceSQL(f"{PG_VECTOR} @@ {PG_TSQUERY}", [hinted], BooleanField())
    )
    candidates = in_title.values("pk")[:MAX_RESULTS].union(
        anywhere.values("pk")[:MAX_RESULTS], all=True
    )[:MAX_RESULTS]
    rank = (
        f"((CASE WHEN {PG_VECTOR} @@ {PG_TSQUERY} THEN 2 WHEN {PG_VECTOR} @@ {PG_TSQUERY} THEN 1"
        f" ELSE 0 END) + 1.0 - 1.0 / (1.0 + ts_rank({PG_VECTOR}, {PG_TSQUERY})))::double precision"
    )
    params = [_pg_tsquery(words, "A"), _pg_tsquery(words, "AB"), query]
    return (
        queryset.model._default_manager.db_manager(queryset.db)
        .filter(pk__in=candidates)
        .annotate(search_rank=_ResourceSQL(rank, params, FloatField()))
    )


def _sqlite(queryset: QuerySet, words: list[tuple[str, ...]]) -> QuerySet:
    """Join the FTS5 index (through the stable key table) and rank with bm25.

    The FTS5 table must be in the FROM clause for MATCH to drive the query and for bm25 to
    work; `extra(tables=...)` is the ORM's way to add a table without a relation. The
    conditions name the resource's alias through `_ResourceSQL`, so they stay right in a
    subquery; the index tables are named directly, and the innermost FROM wins.
    """
    pk = Resource._meta.pk.column
    match = (
        f'"{FTS_KEY_TABLE}"."resource_id" = {{table}}."{pk}"'
        f' AND "{FTS_TABLE}"."rowid" = "{FTS_KEY_TABLE}"."id"'
        f' AND "{FTS_TABLE}" MATCH %s'
    )
    tier = f'"{FTS_TABLE}".rowid IN (SELECT rowid FROM "{FTS_TABLE}" WHERE "{FTS_TABLE}" MATCH %s)'
    # bm25 is negative, lower is better: 1 - 1 / (1 - bm25) is in [0, 1), higher is better.
    rank = (
        f"((CASE WHEN {tier} THEN 2 WHEN {tier} THEN 1 ELSE 0 END)"
        f' + 1.0 - 1.0 / (1.0 - bm25("{FTS_TABLE}", 10.0, 4.0, 2.0)))'
    )
    return (
        queryset.extra(tables=[FTS_KEY_TABLE, FTS_TABLE])
        .filter(_ResourceSQL(match, [_fts5_query(words)], BooleanField()))
        .annotate(
            search_rank=_ResourceSQL(
                rank,
                [_fts5_query(words, "title"), _fts5_query(words, "title description")],
                FloatField(),
            )
        )
    )


_BACKENDS = {"postgresql": _postgresql, "sqlite": _sqlite}


def search_resources(
    user, text: str, *, entity_types: Iterable[str] | None = None
) -> QuerySet[Resource]:
    """Resources `user` may see whose title, description or definition match `text`, best
    first (`search_rank` descending, then title and id); see the module docstring for what
    matches. `entity_types` keeps only those kinds (None: all; empty: none).

    Lazy and one query to evaluate: slice it, count it, add `select_related(...)`. Before
    aggregating over it (counts per kind), clear its ordering with `.order_by()`. On
    PostgreSQL, filters added to it apply to the at most MAX_RESULTS candidates, so narrow the
    search with `entity_types` rather than afterwards.
    """
    queryset = resources_visible_to(user)
    if entity_types is not None:
        kinds = [entity_types] if isinstance(entity_types, str) else list(entity_types)
        queryset = queryset.filter(entity_type__in=kinds)
    words = search_terms(text)
    if not words:
        return queryset.none()
    vendor = connections[queryset.db].vendor
    backend = _BACKENDS.get(vendor)
    if backend is None:
        raise NotSupportedError(f"Resource search needs PostgreSQL or SQLite, not {vendor}.")
    return backend(queryset, words).order_by("-search_rank", "title", "id")


def count_is_capped(count: int, *, using: str = "default") -> bool:
    """Whether a search's `count` stands for "MAX_RESULTS or more" (PostgreSQL caps it)."""
    return connections[using].vendor == "postgresql" and count >= MAX_RESULTS
