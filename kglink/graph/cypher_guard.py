"""Refuse, before it is sent, any Cypher that could do more than read the graph.

A READ transaction is not enough on its own: Neo4j runs `LOAD CSV`, `SHOW ...`,
`TERMINATE TRANSACTIONS` and many procedures in read mode. So `kglink cypher` tokenises
the statement the way Cypher does -- comments, string literals, backtick-quoted names and
parameters are recognised first, so a keyword inside a string neither fools nor blocks
the check -- and refuses:

- clauses that write, change the schema or administer the server (CREATE, MERGE, SET,
  DELETE, REMOVE, DROP, FOREACH, LOAD CSV, ALTER, GRANT, SHOW, TERMINATE, USE, ...);
- `CALL proc()` of any procedure outside a small allow-list (CALL { subquery } is fine);
- namespaced function calls outside Cypher's built-in namespaces (a plug-in function
  such as apoc.cypher.* could run any statement);
- `... IN TRANSACTIONS` and more than one statement.

This is a list of what is allowed, not of what is known to be harmful: anything it
cannot read (an unclosed quote or comment) is refused too.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from kglink.errors import KglinkError

# Clause keywords that write, change the schema, load files or administer the DBMS.
# A name spelt like one of these is fine in backticks (`set`) or as a property (n.set).
FORBIDDEN = frozenset({
    "CREATE", "MERGE", "SET", "DELETE", "DETACH", "REMOVE", "DROP", "FOREACH", "INSERT",
    "LOAD", "ALTER", "RENAME", "GRANT", "REVOKE", "DENY", "SHOW", "TERMINATE", "USE",
    "TRANSACTIONS", "DATABASE", "DATABASES", "DEALLOCATE", "REALLOCATE", "ENABLE", "DRYRUN",
})
# Read-only procedures that describe the graph.
ALLOWED_PROCEDURES = frozenset({
    "db.labels", "db.relationshipTypes", "db.propertyKeys", "db.schema.visualization",
    "db.schema.nodeTypeProperties", "db.schema.relTypeProperties",
})
# Namespaces of Cypher's own functions (point.distance, date.truncate, ...).
BUILTIN_FUNCTION_NAMESPACES = frozenset({
    "point", "date", "datetime", "localdatetime", "localtime", "time", "duration", "vector",
})


class CypherRefused(KglinkError, ValueError):
    """The statement could do more than read the graph; the message says why."""


@dataclass(frozen=True)
class Token:
    kind: str       # word | name (backtick-quoted) | param | string | number | punct
    text: str


_WORD = re.compile(r"\w+", re.UNICODE)
_SPACE = re.compile(r"\s+", re.UNICODE)
_NUMBER = re.compile(r"\d\w*")


def tokens(statement: str) -> list[Token]:
    """Cypher's tokens, comments dropped. Raises CypherRefused on an unclosed quote or comment."""
    out: list[Token] = []
    i, n = 0, len(statement)
    while i < n:
        ch = statement[i]
        if ch.isspace():
            i = _SPACE.match(statement, i).end()  # type: ignore[union-attr]
        elif statement.startswith("//", i):
            end = statement.find("\n", i)
            i = n if end < 0 else end + 1
        elif statement.startswith("/*", i):
            end = statement.find("*/", i + 2)
            if end < 0:
                raise CypherRefused("the query has a comment /* that is never closed")
            i = end + 2
        elif ch in "'\"":
            i = _string_end(statement, i)
            out.append(Token("string", ""))
        elif ch == "`":
            text, i = _quoted_name(statement, i)
            out.append(Token("name", text))
        elif ch == "$":
            m = _WORD.match(statement, i + 1)
            if m:
                out.append(Token("param", m.group()))
                i = m.end()
            elif statement.startswith("`", i + 1):
                text, i = _quoted_name(statement, i + 1)
                out.append(Token("param", text))
            else:
                out.append(Token("punct", ch))
                i += 1
        elif ch.isdigit():
            m = _NUMBER.match(statement, i)
            assert m is not None
            out.append(Token("number", m.group()))
            i = m.end()
        else:
            m = _WORD.match(statement, i)
            if m:
                out.append(Token("word", m.group()))
                i = m.end()
            else:
                out.append(Token("punct", ch))
                i += 1
    return out


def _string_end(s: str, i: int) -> int:
    quote, j = s[i], i + 1
    while j < len(s):
        if s[j] == "\\":
            j += 2
        elif s[j] == quote:
            return j + 1
        else:
            j += 1
    raise CypherRefused("the query has a quote that is never closed")


def _quoted_name(s: str, i: int) -> tuple[str, int]:
    """A `backtick-quoted` name (a doubled `` is a backtick inside it)."""
    j, parts = i + 1, []
    while j < len(s):
        if s[j] == "`":
            if s.startswith("``", j):
                parts.append("`")
                j += 2
                continue
            return "".join(parts), j + 1
        parts.append(s[j])
        j += 1
    raise CypherRefused("the query has a backtick ` that is never closed")


def check_read_only(statement: str) -> None:
    """Raise CypherRefused unless the statement can only read the graph."""
    toks = tokens(statement)
    if not toks:
        raise CypherRefused("the query is empty")
    i = 0
    while i < len(toks):
        t = toks[i]
        if t.kind == "punct" and t.text == ";" and any(x.text != ";" for x in toks[i + 1:]):
            raise CypherRefused("kglink cypher runs one statement at a time; remove the ';'")
        if t.kind != "word" or _is_property_name(toks, i):
            i += 1
            continue
        word = t.text.upper()
        if word in FORBIDDEN:
            raise CypherRefused(
                f"kglink cypher only reads the graph, and {word} is not allowed "
                "(it writes, loads files or administers the server). Ask with MATCH ... RETURN; "
                "quote a name spelt like a keyword in backticks")
        if word == "CALL":
            i = _check_call(toks, i)
            continue
        name, after = _qualified_name(toks, i)
        if (after < len(toks) and toks[after].text == "(" and toks[after].kind == "punct"
                and "." in name
                and name.split(".", 1)[0].lower() not in BUILTIN_FUNCTION_NAMESPACES):
            raise CypherRefused(
                f"the function {name} is not one of Cypher's own, and kglink cypher runs no "
                "plug-in functions. Use Cypher's built-in functions")
        i = after


def _is_property_name(toks: list[Token], i: int) -> bool:
    """n.delete: a word after `.` that follows a name, `)` or `]` is a property key."""
    if i < 2 or toks[i - 1].text != "." or toks[i - 1].kind != "punct":
        return False
    before = toks[i - 2]
    return before.kind in ("word", "name", "param") or before.text in (")", "]")


def _qualified_name(toks: list[Token], i: int) -> tuple[str, int]:
    """name(.name)* starting at token i; returns it and the index after it."""
    parts = [toks[i].text]
    j = i + 1
    while (j + 1 < len(toks) and toks[j].kind == "punct" and toks[j].text == "."
           and toks[j + 1].kind in ("word", "name")):
        parts.append(toks[j + 1].text)
        j += 2
    return ".".join(parts), j


def _check_call(toks: list[Token], i: int) -> int:
    """Check the CALL at token i; returns the index of the token after what it names."""
    nxt = toks[i + 1] if i + 1 < len(toks) else None
    if nxt is None:
        raise CypherRefused("CALL names nothing. Name a procedure or a { subquery }")
    if nxt.kind == "punct" and nxt.text in "{(":
        return i + 1            # CALL { ... } or CALL (x) { ... }: checked token by token
    if nxt.kind not in ("word", "name"):
        raise CypherRefused("CALL must name a procedure or open a { subquery }")
    name, after = _qualified_name(toks, i + 1)
    if name not in ALLOWED_PROCEDURES:
        raise CypherRefused(
            f"kglink cypher does not call the procedure {name}; only "
            f"{', '.join(sorted(ALLOWED_PROCEDURES))}. Ask with MATCH ... RETURN")
    return after
