#!/usr/bin/env python3
"""Build step: api/openapi.yaml -> a C++ file defining esp::rest::kOpenApiJson, so espd
serves the spec as JSON without parsing YAML at run time. Fails on a spec that is not
an OpenAPI 3.0 document."""
import json
import sys

import yaml

source, target = sys.argv[1], sys.argv[2]
with open(source) as f:
    spec = yaml.safe_load(f)
if not str(spec.get("openapi", "")).startswith("3.0") or "paths" not in spec:
    sys.exit(f"{source}: not an OpenAPI 3.0 document")
text = json.dumps(spec, separators=(",", ":"), sort_keys=False)
delimiter = "openapi"
assert f"){delimiter}\"" not in text
with open(target, "w") as f:
    f.write("// Generated from api/openapi.yaml by scripts/openapi_to_cpp.py. Do not edit.\n")
    f.write('#include "api/rest/docs.h"\n\nnamespace esp::rest {\n')
    # Raw string literals are capped in length by some compilers; concatenate chunks.
    chunks = [text[i:i + 8000] for i in range(0, len(text), 8000)]
    f.write("const std::string_view kOpenApiJson =\n")
    for chunk in chunks:
        f.write(f'    R"{delimiter}({chunk}){delimiter}"\n')
    f.write(";\n}  // namespace esp::rest\n")
