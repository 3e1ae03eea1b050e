#!/usr/bin/env python3
"""Make the generated config stubs name what works at runtime.

Pulumi's Python code generation (pulumi-language-python, `genConfigStubs`) writes
`config/__init__.pyi` with the schema's camelCase keys (`subscriptionId: Optional[str]`),
while `config/vars.py` defines the snake_case properties that exist at runtime
(`subscription_id`); so `datasnap.config.subscription_id` fails type checking and
`datasnap.config.subscriptionId` type-checks but raises AttributeError. The bug is in
Pulumi's generator, not in our schema (a config key's Python name cannot be set there), so
`make sdk` runs this right after `pulumi package gen-sdk`: each stub is renamed to the
property that reads the same key in vars.py. Running it twice changes nothing.

usage: fix-config-stubs.py SDK_PYTHON_DIR
"""

import re
import sys
from pathlib import Path


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    package = next(Path(sys.argv[1]).glob("pulumi_*/config"))
    vars_py = (package / "vars.py").read_text()
    # `def subscription_id(self) ...` then, in its body, `__config__.get('subscriptionId')`.
    pairs = re.findall(r"def (\w+)\(self\).*?__config__\.get(?:_bool|_int|_float|_object)?\('(\w+)'\)", vars_py, re.S)
    names = {key: prop for prop, key in pairs}
    stub = package / "__init__.pyi"
    text = stub.read_text()
    fixed = re.sub(
        r"^(\w+)(: )",
        lambda m: names.get(m.group(1), m.group(1)) + m.group(2),
        text,
        flags=re.M,
    )
    missing = sorted(set(re.findall(r"^(\w+): ", fixed, re.M)) - set(names.values()))
    if missing:
        print(f"{stub}: no runtime property for {missing}", file=sys.stderr)
        return 1
    if fixed != text:
        stub.write_text(fixed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
