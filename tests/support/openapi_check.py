"""Checks real espd answers against api/openapi.yaml: the path and method exist, the
status is documented, the content type is the documented one, and a JSON body
matches its schema. Records which operations were checked, so a test can show
that every documented operation was exercised."""
import json
import os
import re

import jsonschema
import yaml

SPEC_PATH = os.path.join(os.path.dirname(__file__), "..", "..", "api", "openapi.yaml")
SPEC = yaml.safe_load(open(SPEC_PATH))
RESOLVER = jsonschema.RefResolver.from_schema(SPEC)
checked = set()  # (method, template)


def _resolve(node):
    while isinstance(node, dict) and "$ref" in node:
        node = RESOLVER.resolve(node["$ref"])[1]
    return node


def template_for(path):
    """The spec's path template matching a concrete path (most literal segments win)."""
    path = path.split("?", 1)[0]
    best, best_score = None, -1
    for template in SPEC["paths"]:
        pattern = "^" + re.sub(r"\\\{checkpoint\\\}", "(.+)",
                               re.sub(r"\\\{(?!checkpoint)[a-z_]+\\\}", "([^/]+)", re.escape(template))) + "$"
        if re.match(pattern, path):
            score = len(re.sub(r"\{[^}]+\}", "", template))
            if score > best_score:
                best, best_score = template, score
    assert best is not None, f"{path} is not in api/openapi.yaml"
    return best


def check(method, path, answer):
    template = template_for(path)
    operation = SPEC["paths"][template].get(method.lower())
    assert operation is not None, f"{method} {template} is not in api/openapi.yaml"
    responses = operation["responses"]
    assert str(answer.status) in responses, \
        f"{method} {template} answered {answer.status}, not documented ({sorted(responses)})"
    response = _resolve(responses[str(answer.status)])
    checked.add((method.upper(), template))
    content = response.get("content")
    if not content:
        assert not answer.body, f"{method} {template} {answer.status} has a body the spec does not"
        return
    content_type = (answer.header("Content-Type") or "").split(";")[0].strip()
    assert content_type in content, \
        f"{method} {template} {answer.status}: Content-Type {content_type} not in {sorted(content)}"
    schema = content[content_type].get("schema")
    if schema is None or not content_type.endswith("json"):
        return
    jsonschema.validate(json.loads(answer.body), _resolve(schema), resolver=RESOLVER,
                        cls=jsonschema.Draft4Validator)


def operations(prefix=""):
    """Every (METHOD, template) the spec documents under `prefix`."""
    return {(method.upper(), template) for template, item in SPEC["paths"].items()
            if template.startswith(prefix)
            for method in item if method in ("get", "post", "put", "delete", "patch")}
