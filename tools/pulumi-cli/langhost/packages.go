package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
)

// distribution is one installed Python distribution, as reported by listScript.
type distribution struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// Absolute path of the distribution's `<module>/pulumi-plugin.json`, if it has one.
	PluginJSON string `json:"plugin_json"`
}

// listScript prints, as JSON, every distribution installed in the interpreter's environment with
// the location of its `pulumi-plugin.json` (generated Pulumi SDKs ship one in their top-level
// module). It looks in the distribution's file list first, then, for editable or legacy installs
// whose file list does not name it, in the module directory found by importlib without importing it.
const listScript = `
import importlib.metadata as md, importlib.util, json, os, re

def modules(dist):
    names = []
    top = dist.read_text("top_level.txt")
    if top:
        names += [n.strip() for n in top.splitlines() if n.strip()]
    norm = re.sub(r"[-_.]+", "_", dist.metadata["Name"] or "")
    if norm and norm not in names:
        names.append(norm)
    return names

def plugin_json(dist):
    for f in dist.files or []:
        if f.name == "pulumi-plugin.json" and len(f.parts) == 2:
            return os.path.abspath(str(dist.locate_file(f)))
    for mod in modules(dist):
        if not mod.startswith("pulumi"):
            continue
        try:
            spec = importlib.util.find_spec(mod)
        except Exception:
            spec = None
        for loc in (spec.submodule_search_locations or []) if spec else []:
            path = os.path.join(loc, "pulumi-plugin.json")
            if os.path.isfile(path):
                return os.path.abspath(path)
    return ""

seen = set()
out = []
for dist in md.distributions():
    name = dist.metadata["Name"]
    if not name or name.lower() in seen:
        continue
    seen.add(name.lower())
    out.append({"name": name, "version": dist.version, "plugin_json": plugin_json(dist)})
print(json.dumps(out))
`

func listDistributions(ctx context.Context, tc toolchain.Toolchain) ([]distribution, error) {
	cmd, err := tc.Command(ctx, "-c", listScript)
	if err != nil {
		return nil, err
	}
	cmd.Stderr = nil
	out, err := cmd.Output()
	if err != nil {
		var detail string
		if ee, ok := err.(interface{ ExitCode() int }); ok {
			detail = fmt.Sprintf(" (exit code %d)", ee.ExitCode())
		}
		return nil, fmt.Errorf("listing installed Python distributions with %s failed%s: %w", cmd.Path, detail, err)
	}
	var dists []distribution
	if err := json.Unmarshal(out, &dists); err != nil {
		return nil, fmt.Errorf("parsing the list of installed Python distributions: %w", err)
	}
	return dists, nil
}

// noPlugin names distributions that look like Pulumi packages but have no provider plugin.
var noPlugin = map[string]bool{"pulumi-policy": true, "pulumi-esc-sdk": true}

func normalizeName(name string) string {
	return strings.ToLower(strings.NewReplacer("_", "-", ".", "-").Replace(name))
}

// packageDependencies keeps the distributions that provide a Pulumi package: those with a
// `pulumi-plugin.json`, plus first-party `pulumi-*` ones, and describes the provider each needs.
func packageDependencies(dists []distribution) ([]*pulumirpc.PackageDependency, error) {
	var out []*pulumirpc.PackageDependency
	for _, d := range dists {
		norm := normalizeName(d.Name)
		if noPlugin[norm] {
			continue
		}
		var meta *plugin.PulumiPluginJSON
		if d.PluginJSON != "" {
			m, err := plugin.LoadPulumiPluginJSON(d.PluginJSON)
			if err != nil {
				return nil, fmt.Errorf("reading %s: %w", d.PluginJSON, err)
			}
			meta = m
		} else if !strings.HasPrefix(norm, "pulumi-") {
			continue
		}

		dep := &pulumirpc.PackageDependency{Kind: "resource"}
		if meta != nil {
			if !meta.Resource {
				logging.V(5).Infof("package %s declares no resource plugin", d.Name)
				continue
			}
			dep.Name, dep.Version, dep.Server = meta.Name, meta.Version, meta.Server
			if p := meta.Parameterization; p != nil {
				dep.Parameterization = &pulumirpc.PackageParameterization{
					Name: p.Name, Version: p.Version, Value: p.Value,
				}
			}
		}
		if dep.Name == "" {
			dep.Name = strings.TrimPrefix(norm, "pulumi-")
		}
		if dep.Version == "" {
			v, err := pep440ToSemver(d.Version)
			if err != nil {
				logging.V(5).Infof("skipping %s: no plugin version derivable from %q: %v", d.Name, d.Version, err)
				continue
			}
			dep.Version = v
		}
		if !strings.HasPrefix(dep.Version, "v") {
			dep.Version = "v" + dep.Version
		}
		out = append(out, dep)
	}
	return out, nil
}

// pep440ToSemver maps the common subset of PEP 440 versions, `N(.N)*[{a|b|rc}N][.postN][.devN]`,
// onto semver: at least three numeric parts; a/b/rc become -alpha./-beta./-rc.; post and dev
// releases become build metadata. Epochs and local versions are refused.
func pep440ToSemver(v string) (string, error) {
	rest := strings.TrimSpace(v)
	if rest == "" {
		return "", errors.New("empty version")
	}
	digits := func(s string) (string, string) {
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return s[:i], s[i:]
	}
	var nums []string
	for {
		n, r := digits(rest)
		if n == "" {
			return "", fmt.Errorf("expected a number in %q", v)
		}
		nums = append(nums, n)
		rest = r
		if strings.HasPrefix(rest, "!") {
			return "", errors.New("epochs are not supported")
		}
		if len(rest) > 1 && rest[0] == '.' && rest[1] >= '0' && rest[1] <= '9' {
			rest = rest[1:]
			continue
		}
		break
	}
	for len(nums) < 3 {
		nums = append(nums, "0")
	}
	result := strings.Join(nums, ".")

	for _, pre := range []struct{ py, sem string }{{"rc", "rc"}, {"a", "alpha"}, {"b", "beta"}} {
		if strings.HasPrefix(rest, pre.py) {
			n, r := digits(rest[len(pre.py):])
			if n == "" {
				return "", fmt.Errorf("pre-release without a number in %q", v)
			}
			result += "-" + pre.sem + "." + n
			rest = r
			break
		}
	}
	build := ""
	if strings.HasPrefix(rest, ".post") {
		n, r := digits(rest[len(".post"):])
		build += "post" + n
		rest = r
	}
	if strings.HasPrefix(rest, ".dev") {
		n, r := digits(rest[len(".dev"):])
		build += "dev" + n
		rest = r
	}
	if rest != "" {
		return "", fmt.Errorf("unsupported version suffix %q in %q", rest, v)
	}
	if build != "" {
		result += "+" + build
	}
	return result, nil
}
