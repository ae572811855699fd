"""A Plan as Terraform-like text. This text is an interface: deterministic and tested as golden text.

  + container/api          not present
  + bridge/web (deployment/web:web 80->8080)  not present
-/+ container/web          env.GREETING changed
      ~ env.GREETING: "hi" => "hello"
  ~ network/default        (update in place) ...
  - container/old          not in gefyra.yaml

Plan: 1 to add, 1 to replace, 1 to destroy.
"""

from __future__ import annotations

import json

from pydantic import JsonValue

from gefyra.planning.plan import Action, Change, FieldDiff, Plan

SYMBOLS = {Action.CREATE: "+", Action.REPLACE: "-/+", Action.UPDATE: "~", Action.DELETE: "-"}
_DIFF_SYMBOLS = {"added": "+", "removed": "-", "changed": "~"}
_VALUE_WIDTH = 60
NO_CHANGES = "No changes."


def summary(plan: Plan) -> str:
    if not plan.has_changes:
        return NO_CHANGES
    update = plan.count(Action.UPDATE)
    parts = [f"{plan.count(Action.CREATE)} to add"]
    if update:
        parts.append(f"{update} to update")
    parts += [f"{plan.count(Action.REPLACE)} to replace", f"{plan.count(Action.DELETE)} to destroy"]
    return f"Plan: {', '.join(parts)}."


def render(plan: Plan) -> str:
    """The whole plan text, ending with the summary line (no trailing newline)."""
    shown = [change for change in plan.changes if change.action is not Action.UNCHANGED]
    if not shown:
        return NO_CHANGES if not plan.has_changes else summary(plan)
    width = max(len(_head(change)) for change in shown) + 2
    lines = [f"gefyra will change project {plan.project}:", ""]
    for change in shown:
        lines.extend(_change_lines(change, width))
    lines += ["", summary(plan)]
    return "\n".join(lines)


def _change_lines(change: Change, width: int) -> list[str]:
    symbol = SYMBOLS[change.action]
    cause = f"(update in place) {change.cause}" if change.action is Action.UPDATE else change.cause
    lines = [f"{symbol:>3} {_head(change):<{width}}{cause}".rstrip()]
    lines.extend(f"        {_diff_line(item)}" for item in change.diff)
    return lines


def _head(change: Change) -> str:
    """The address, with the resource's one-line summary in parentheses when it gives one."""
    return f"{change.key} ({change.summary})" if change.summary else str(change.key)


def _diff_line(item: FieldDiff) -> str:
    symbol = _DIFF_SYMBOLS[item.change]
    if item.change == "added":
        return f"{symbol} {item.path}: {_value(item.after)}"
    if item.change == "removed":
        return f"{symbol} {item.path}: {_value(item.before)}"
    return f"{symbol} {item.path}: {_value(item.before)} => {_value(item.after)}"


def _value(value: JsonValue) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= _VALUE_WIDTH else text[: _VALUE_WIDTH - 3] + "..."


_COLORS = {"+": "32", "-": "31", "-/+": "33", "~": "33"}  # green, red, yellow (like Terraform)


def colorize(text: str) -> str:
    """ANSI colours for a terminal: the symbol column of each change line and of each field diff line."""
    out = []
    for line in text.splitlines():
        stripped = line.lstrip()
        symbol = stripped.split(" ", 1)[0] if stripped else ""
        if symbol in _COLORS and not line.startswith("Plan:"):
            indent = line[: len(line) - len(stripped)]
            line = f"{indent}\x1b[{_COLORS[symbol]}m{symbol}\x1b[0m{stripped[len(symbol) :]}"
        elif line.startswith("Plan:") or line == NO_CHANGES:
            line = f"\x1b[1m{line}\x1b[0m"
        out.append(line)
    return "\n".join(out)
