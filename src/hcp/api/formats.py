"""Formats of Kubernetes names and label values, checked alike by the API server and the models.

What hcp copies from a HostedCluster or NodePool into other objects (labels and
selectors of Nodes and control-plane pods, toleration keys, the control-plane
namespace) must be valid there, or the operator would fail on every pass over an
object the API server admitted. So these fields carry the rules of
k8s.io/apimachinery's validation (IsQualifiedName, IsValidLabelValue,
IsDNS1123Label) twice from one definition: as CEL for the CRD and as a predicate
for pydantic (see `hcp.api.markers.Checked`).

Python's `re.fullmatch` and CEL's `matches` (RE2) agree on these expressions; the
`^...$` anchors are for CEL, where `matches` finds a match anywhere.
"""

import re
from typing import Annotated, Any

from pydantic import Field

from hcp.api.markers import Checked, Rule, cel_string

DNS1123_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
"""A lowercase RFC 1123 label (a Namespace or Service name), without its length limit of 63."""
_DNS1123_SUBDOMAIN = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
QUALIFIED_NAME = rf"^({_DNS1123_SUBDOMAIN}/)?[A-Za-z0-9]([-A-Za-z0-9_.]{{0,61}}[A-Za-z0-9])?$"
"""A label key: an optional DNS subdomain prefix and '/', then a name of at most 63 characters."""
LABEL_VALUE = r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$"
"""A label value, without its length limit of 63."""

MAX_PREFIX_LENGTH = 253
"""The DNS subdomain prefix of a qualified name."""
MAX_QUALIFIED_NAME_LENGTH = MAX_PREFIX_LENGTH + 1 + 63
MAX_LABEL_VALUE_LENGTH = 63

QUALIFIED_NAME_MESSAGE = (
    "label key must have two segments: an optional prefix and name, separated by a slash (/). The name segment is "
    "required and must be 63 characters or less, beginning and ending with an alphanumeric character ([a-z0-9A-Z]) "
    "with dashes (-), underscores (_), dots (.), and alphanumerics between. The prefix is optional. If specified, the "
    "prefix must be a DNS subdomain: a series of DNS labels separated by dots (.), not longer than 253 characters in "
    "total, followed by a slash (/)"
)
KEY_MESSAGE = (
    "key must be a qualified name such as example.com/my-key: an optional DNS subdomain prefix of at most 253 "
    "characters and a slash (/), then a name of at most 63 characters: alphanumeric characters, dashes (-), "
    "underscores (_) or dots (.), beginning and ending with an alphanumeric character"
)
LABEL_VALUE_MESSAGE = (
    "label value must be 63 characters or less (can be empty), consist of alphanumeric characters, dashes (-), "
    "underscores (_) or dots (.), and begin and end with an alphanumeric character"
)


# Go's RE2 classes are ASCII; Python's are Unicode. `$` ends the text in RE2, but may precede a final newline
# in Python.
_RE2_CLASSES = {r"\d": "[0-9]", r"\w": "[0-9A-Za-z_]", r"\S": r"[^\t\n\f\r ]", r"\s": r"[\t\n\f\r ]"}


def _python_pattern(pattern: str) -> str:
    for re2, python in _RE2_CLASSES.items():
        pattern = pattern.replace(re2, python)
    return pattern[:-1] + r"\Z" if pattern.endswith("$") and not pattern.endswith(r"\$") else pattern


def matches(pattern: str, text: str) -> bool:
    """CEL's `text.matches(pattern)`: whether RE2 finds `pattern` in `text` (anchor it to match the whole)."""
    return re.search(_python_pattern(pattern), text) is not None


def pattern_check(message: str, *patterns: str, values: tuple[str, ...] = ()) -> Checked:
    """A string rule: `self.matches(p1) || self.matches(p2) ... || self in [values]`, in CEL and in Python."""
    alternatives = [f"self.matches({cel_string(pattern)})" for pattern in patterns]
    if values:
        alternatives.append("self in [" + ", ".join(cel_string(value) for value in values) + "]")
    return Checked(
        Rule(" || ".join(alternatives), message),
        lambda text: text in values or any(matches(pattern, text) for pattern in patterns),
    )


def is_qualified_name(text: str) -> bool:
    """k8s.io/apimachinery IsQualifiedName: the format of label keys, annotation keys, taint keys."""
    prefix, slash, _ = text.rpartition("/")
    return matches(QUALIFIED_NAME, text) and (not slash or len(prefix) <= MAX_PREFIX_LENGTH)


def is_label_value(text: str) -> bool:
    """k8s.io/apimachinery IsValidLabelValue."""
    return len(text) <= MAX_LABEL_VALUE_LENGTH and matches(LABEL_VALUE, text)


def qualified_name_cel(variable: str) -> str:
    """The CEL expression that is true when the string `variable` is a qualified name."""
    return (
        f"{variable}.matches({cel_string(QUALIFIED_NAME)}) && "
        f"(!{variable}.contains('/') || {variable}.indexOf('/') <= {MAX_PREFIX_LENGTH})"
    )


LABEL_VALUE_RULE = Rule(f"self.matches({cel_string(LABEL_VALUE)})", LABEL_VALUE_MESSAGE)
LABEL_KEYS_RULE = Rule(f"self.all(k, {qualified_name_cel('k')})", QUALIFIED_NAME_MESSAGE)

LabelValue = Annotated[str, Field(max_length=MAX_LABEL_VALUE_LENGTH), Checked(LABEL_VALUE_RULE, is_label_value)]
"""The value of a label (or of a node selector term)."""

def label_map(max_entries: int) -> Any:
    """Labels: qualified-name keys and label values, as a Node or a Pod accepts them; at most `max_entries`.

    Keys are checked by one CEL rule over the map, since a CRD schema cannot constrain
    property names; the bound on the map's size (maxProperties) lets the API server
    bound the cost of that rule.
    """
    return Annotated[
        dict[str, LabelValue],
        Field(max_length=max_entries),
        Checked(LABEL_KEYS_RULE, lambda labels: all(is_qualified_name(key) for key in labels)),
    ]
