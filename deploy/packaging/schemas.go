package packaging

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// KubernetesSchemas writes kubeconform's standalone strict schemas
// (dir/KIND-GROUP-VERSION.json, as -schema-location
// 'dir/{{ .ResourceKind }}{{ .KindSuffix }}.json' reads them) for the
// given apiVersion/kind pairs, from Kubernetes' OpenAPI v2 document
// (api/openapi-spec/swagger.json) and CRD documents (apiextensions v1, as
// JSON). Each file holds only the definitions its kind reaches; objects
// refuse unknown fields; int-or-string and quantities take both forms, as
// the API server does.
func KubernetesSchemas(dir, swaggerPath string, crdPaths []string, want map[[2]string]bool) error {
	var swagger struct {
		Definitions map[string]map[string]any `json:"definitions"`
	}
	if err := readJSON(swaggerPath, &swagger); err != nil {
		return err
	}
	defs := swagger.Definitions
	byGVK := map[[2]string]string{}
	for name, d := range defs {
		gvks, _ := d["x-kubernetes-group-version-kind"].([]any)
		for _, g := range gvks {
			m, _ := g.(map[string]any)
			group, _ := m["group"].(string)
			version, _ := m["version"].(string)
			kind, _ := m["kind"].(string)
			byGVK[[2]string{apiVersion(group, version), kind}] = name
		}
	}
	crds := map[[2]string]map[string]any{}
	for _, p := range crdPaths {
		var crd struct {
			Spec struct {
				Group string `json:"group"`
				Names struct {
					Kind string `json:"kind"`
				} `json:"names"`
				Versions []struct {
					Name   string `json:"name"`
					Schema struct {
						OpenAPIV3Schema map[string]any `json:"openAPIV3Schema"`
					} `json:"schema"`
				} `json:"versions"`
			} `json:"spec"`
		}
		if err := readJSON(p, &crd); err != nil {
			return err
		}
		for _, v := range crd.Spec.Versions {
			crds[[2]string{apiVersion(crd.Spec.Group, v.Name), crd.Spec.Names.Kind}] = v.Schema.OpenAPIV3Schema
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for gvk := range want {
		var doc map[string]any
		if name, ok := byGVK[gvk]; ok {
			closure := map[string]any{}
			reach(defs, name, closure)
			doc = map[string]any{"allOf": []any{map[string]any{"$ref": "#/definitions/" + name}}, "definitions": closure}
		} else if s, ok := crds[gvk]; ok {
			doc = strict(s).(map[string]any)
		} else {
			return fmt.Errorf("no schema for %s %s in %s or the CRDs", gvk[0], gvk[1], swaggerPath)
		}
		b, err := json.Marshal(doc)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, SchemaFile(gvk[0], gvk[1])), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// SchemaFile is kubeconform's file name for a kind: kind-group-version.json
// with the group's first label ("apps/v1" Deployment: deployment-apps-v1.json).
func SchemaFile(apiVersion, kind string) string {
	suffix := ""
	group, version, ok := strings.Cut(apiVersion, "/")
	if !ok {
		group, version = "", apiVersion
	}
	if group != "" {
		suffix = "-" + strings.ToLower(strings.Split(group, ".")[0])
	}
	return strings.ToLower(kind) + suffix + "-" + strings.ToLower(version) + ".json"
}

func apiVersion(group, version string) string {
	if group == "" {
		return version
	}
	return group + "/" + version
}

// reach copies into out, made strict, every definition name refers to.
func reach(defs map[string]map[string]any, name string, out map[string]any) {
	if _, done := out[name]; done {
		return
	}
	d, ok := defs[name]
	if !ok {
		return
	}
	var s any
	switch name {
	case "io.k8s.apimachinery.pkg.api.resource.Quantity":
		s = map[string]any{"oneOf": []any{map[string]any{"type": "string"}, map[string]any{"type": "number"}}}
	case "io.k8s.apimachinery.pkg.util.intstr.IntOrString":
		s = map[string]any{"oneOf": []any{map[string]any{"type": "string"}, map[string]any{"type": "integer"}}}
	default:
		s = strict(d)
	}
	out[name] = s
	var walk func(any)
	walk = func(v any) {
		switch t := v.(type) {
		case map[string]any:
			if r, ok := t["$ref"].(string); ok {
				reach(defs, strings.TrimPrefix(r, "#/definitions/"), out)
			}
			for _, c := range t {
				walk(c)
			}
		case []any:
			for _, c := range t {
				walk(c)
			}
		}
	}
	walk(d)
}

// strict copies a schema with additionalProperties: false on every object
// that lists its properties and says nothing else, and int-or-string
// formats as either type.
func strict(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t)+1)
		for k, c := range t {
			if k == "properties" {
				props := map[string]any{}
				for pk, pv := range c.(map[string]any) {
					props[pk] = strict(pv)
				}
				out[k] = props
				continue
			}
			out[k] = strict(c)
		}
		if t["format"] == "int-or-string" || t["x-kubernetes-int-or-string"] == true {
			delete(out, "type")
			delete(out, "format")
			delete(out, "anyOf")
			out["oneOf"] = []any{map[string]any{"type": "string"}, map[string]any{"type": "integer"}}
		}
		_, hasProps := t["properties"]
		_, hasAdditional := t["additionalProperties"]
		if hasProps && !hasAdditional && t["x-kubernetes-preserve-unknown-fields"] != true {
			out["additionalProperties"] = false
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, c := range t {
			out[i] = strict(c)
		}
		return out
	}
	return v
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
