"""Chinese word search over proposals: number, title, body and proposer names, segmented once when written.

Chinese has no spaces, so a plain full-text index finds nothing and a trigram index cannot serve a
two-character word (教育) at all. The text is segmented with jieba (rjieba) in search mode when a proposal
is written (`search_text`: every word and its shorter words, e.g. 教育局 also as 教育), and PostgreSQL
stores `to_tsvector('simple', search_text)` in a generated column with a GIN index (proposals 0005). A query is segmented
the same way and every word must match. SQLite keeps the simple fallback: a substring match per word.
"""
from __future__ import annotations

import functools
import re

import rjieba
from django.db import connection
from django.db.models import BooleanField, Exists, F, Func, OuterRef, Q, Value

# The module, not its names: proposals.models imports this module back (a cycle that Django enters from models).
from banli.proposals import models

MANY_NAMES = 200
TSQUERY_SQL = "to_tsquery('simple'::regconfig, {value})"


def _vector(column: str) -> str:
    # PostgreSQL stores to_tsvector('simple', search_text) in the generated column search_vector (migration
    # proposals 0005, GIN-indexed; not a model field, SQLite has no tsvector): read it from the same table alias.
    return column.replace('"search_text"', '"search_vector"')


class WordsMatch(Func):
    """The stored words match every query word: `search_vector @@ to_tsquery('simple', words)` (PostgreSQL)."""

    output_field = BooleanField()

    def as_sql(self, compiler, connection, **extra):
        column, column_params = compiler.compile(self.source_expressions[0])
        value, value_params = compiler.compile(self.source_expressions[1])
        return f"{_vector(column)} @@ {TSQUERY_SQL.format(value=value)}", [*column_params, *value_params]


class WordsRank(Func):
    """ts_rank of the stored words against the query words (PostgreSQL)."""

    def as_sql(self, compiler, connection, **extra):
        column, column_params = compiler.compile(self.source_expressions[0])
        value, value_params = compiler.compile(self.source_expressions[1])
        return f"ts_rank({_vector(column)}, {TSQUERY_SQL.format(value=value)})", [*column_params, *value_params]
_SPACE = re.compile(r"\s+")
_PUNCT = re.compile(r"^[\W_]+$")


def _words(tokens) -> list[str]:
    out, seen = [], set()
    for token in tokens:
        token = token.strip().lower()
        if not token or _PUNCT.match(token) or token in seen:
            continue
        seen.add(token)
        out.append(token)
    return out


def segment(text: str) -> str:
    """The words of `text` (with the shorter words inside longer ones), space separated."""
    return " ".join(_words(rjieba.cut_for_search(_SPACE.sub(" ", text or ""))))


def search_text_for(*, number: str, title: str, body: str, names=()) -> str:
    words = _words([*_segment_cached(number or ""), *_segment_cached(f"{title or ''} {body or ''}"),
                    *(w for name in names for w in _segment_cached(name))])
    return " ".join(words)


@functools.lru_cache(maxsize=4096)
def _segment_cached(text: str) -> tuple[str, ...]:
    # Bulk loads repeat titles, bodies and names; segmenting each distinct text once keeps them fast.
    return tuple(segment(text).split())


def query_words(value: str) -> list[str]:
    """The words a query asks for: each space-separated part segmented precisely (教育局长 → 教育局长)."""
    words = []
    for part in (value or "").split():
        words.extend(_words(rjieba.cut(part)))
    return words


def uses_index() -> bool:
    return connection.vendor == "postgresql"


def tsquery_text(value: str) -> str:
    """A to_tsquery argument: every word required, each quoted as a lexeme."""
    return " & ".join("'" + w.replace("'", "''").replace("\\", "\\\\") + "'" for w in query_words(value))


def matching_proposals_q(value: str, prefix: str = "") -> Q:
    """A Q over rows reaching Proposal through `prefix` (e.g. "proposal__") that match every word of `value`.

    PostgreSQL: one `EXISTS (SELECT 1 FROM proposal WHERE id = row's proposal AND search_vector @@ tsquery)`, a
    single semi-join the planner may serve either way: walking the ledger's own index and probing each row's
    proposal (a page stops after 50 matches), or from the GIN index (a rare word). A word that is also part of a
    proposer's name ("何委" of 何委员, no segmented word) adds that proposer's items inside the same EXISTS;
    proposers are few, so they are looked up first and most words add nothing. SQLite: a substring match per
    word on number, title, body and proposer names (the fallback)."""
    value = (value or "").strip()
    if not value:
        return Q()
    if uses_index():
        if not tsquery_text(value):
            return Q()
        match = Q()
        for word in value.split():
            # A number is one word of search_text too, so numbers need no second condition.
            part = tsquery_text(word)
            words = Q(WordsMatch(F("search_text"), Value(part))) if part else Q(pk__in=[])
            named = _named_proposals(word)
            match &= (words | Q(pk__in=named)) if named is not None else words
        outer = OuterRef(f"{prefix}pk") if prefix else OuterRef("pk")
        return Q(Exists(models.Proposal.objects.filter(match, pk=outer)))
    q = Q()
    for word in value.split():
        q &= (Q(**{f"{prefix}title__icontains": word}) | Q(**{f"{prefix}body__icontains": word})
              | Q(**{f"{prefix}number__icontains": word})
              | Q(**{f"{prefix}pk__in": models.ProposalProposer.objects.filter(proposer__name__icontains=word)
                     .values("proposal_id")}))
    return q


def _named_proposals(word: str):
    """The items of the proposers whose name contains `word`, as a sub-select, or None when no name does (one
    read of the small proposer table, so the common word keeps a plain index condition)."""
    ids = list(models.Proposer.objects.filter(name__icontains=word).values_list("pk", flat=True)[:MANY_NAMES + 1])
    if not ids:
        return None
    if len(ids) > MANY_NAMES:  # a very common character: leave the names to the database
        return models.ProposalProposer.objects.filter(proposer__name__icontains=word).values("proposal_id")
    return models.ProposalProposer.objects.filter(proposer_id__in=ids).values("proposal_id")
