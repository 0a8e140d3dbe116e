package api

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// documentRoutes lists the (method, path) pairs of an OpenAPI document's paths.
func documentRoutes(t *testing.T, doc []byte) []Route {
	t.Helper()
	var d struct {
		OpenAPI string                               `yaml:"openapi"`
		Paths   map[string]map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(doc, &d); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(d.OpenAPI, "3.1.") {
		t.Fatalf("openapi %q, want 3.1.x", d.OpenAPI)
	}
	var rs []Route
	for path, item := range d.Paths {
		for method := range item {
			switch method {
			case "get", "put", "post", "delete", "options", "head", "patch", "trace":
				rs = append(rs, Route{strings.ToUpper(method), path})
			case "parameters", "summary", "description", "servers":
			default:
				t.Errorf("path %s has an unknown key %q", path, method)
			}
		}
	}
	return rs
}

func sortRoutes(rs []Route) []Route {
	rs = slices.Clone(rs)
	slices.SortFunc(rs, func(a, b Route) int { return strings.Compare(a.Path+" "+a.Method, b.Path+" "+b.Method) })
	return rs
}

// diffRoutes names the routes one list has and the other lacks.
func diffRoutes(handler, doc []Route) (notDocumented, notServed []Route) {
	for _, r := range handler {
		if !slices.Contains(doc, r) {
			notDocumented = append(notDocumented, r)
		}
	}
	for _, r := range doc {
		if !slices.Contains(handler, r) {
			notServed = append(notServed, r)
		}
	}
	return notDocumented, notServed
}

func TestOpenAPIMatchesRoutes(t *testing.T) {
	notDocumented, notServed := diffRoutes(AgentRoutes, documentRoutes(t, OpenAPI))
	for _, r := range notDocumented {
		t.Errorf("the handler serves %s %s, which openapi.yaml lacks", r.Method, r.Path)
	}
	for _, r := range notServed {
		t.Errorf("openapi.yaml describes %s %s, which the handler does not serve", r.Method, r.Path)
	}
	// The comparison itself must see a difference either way.
	if _, ns := diffRoutes(AgentRoutes, documentRoutes(t, []byte(strings.Replace(string(OpenAPI), "paths:\n", "paths:\n  /v1/extra:\n    get:\n      responses: {}\n", 1)))); len(ns) != 1 {
		t.Errorf("an extra documented route was not noticed: %v", ns)
	}
	if nd, _ := diffRoutes(append(slices.Clone(AgentRoutes), Route{"DELETE", "/v1/agent"}), documentRoutes(t, OpenAPI)); len(nd) != 1 {
		t.Errorf("an extra served route was not noticed: %v", nd)
	}
}

// Every route of AgentRoutes is really registered: it answers with something
// other than the catch-all's 404 or a 405, and every other method gets a 405.
func TestAgentRoutesAreRegistered(t *testing.T) {
	h := NewAgentHandler(AgentConfig{Payments: failingService{}})
	for _, r := range sortRoutes(AgentRoutes) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(r.Method, r.Path, strings.NewReader("{}")))
		if rec.Code == http.StatusNotFound || rec.Code == http.StatusMethodNotAllowed {
			t.Errorf("%s %s: %d", r.Method, r.Path, rec.Code)
		}
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPatch, r.Path, nil))
		if rec.Code != http.StatusMethodNotAllowed {
			t.Errorf("PATCH %s: %d", r.Path, rec.Code)
		}
	}
}

// jsonFields are the JSON names of a struct's fields.
func jsonFields(v any) []string {
	var out []string
	rt := reflect.TypeOf(v)
	for i := range rt.NumField() {
		name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// The document's schemas name exactly the fields the handler reads and writes.
func TestOpenAPISchemasMatchTypes(t *testing.T) {
	type schema struct {
		Properties map[string]schema `yaml:"properties"`
	}
	var d struct {
		Components struct {
			Schemas map[string]schema `yaml:"schemas"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(OpenAPI, &d); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		schema schema
		typ    any
	}{
		{"PaymentRequest", d.Components.Schemas["PaymentRequest"], paymentRequest{}},
		{"SignedPayment", d.Components.Schemas["SignedPayment"], signedResponse{}},
		{"SignedPayment.header", d.Components.Schemas["SignedPayment"].Properties["header"], paymentHeader{}},
		{"PendingApproval", d.Components.Schemas["PendingApproval"], approvalResponse{}},
		{"Agent", d.Components.Schemas["Agent"], agentResponse{}},
		{"Error", d.Components.Schemas["Error"], errorBody{}},
		{"Error.error", d.Components.Schemas["Error"].Properties["error"], errorDetail{}},
	} {
		var props []string
		for p := range tc.schema.Properties {
			props = append(props, p)
		}
		slices.Sort(props)
		if want := jsonFields(tc.typ); !slices.Equal(props, want) {
			t.Errorf("%s: document has %v, the Go type %v", tc.name, props, want)
		}
	}
}
