package api

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/fleetkey/fleetkey/internal/audit"
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

// allRoutes is every route a daemon's handler may serve.
func allRoutes() []Route { return append(slices.Clone(Routes), ExtraRoutes...) }

func TestOpenAPIMatchesRoutes(t *testing.T) {
	notDocumented, notServed := diffRoutes(allRoutes(), documentRoutes(t, OpenAPI))
	for _, r := range notDocumented {
		t.Errorf("the handler serves %s %s, which openapi.yaml lacks", r.Method, r.Path)
	}
	for _, r := range notServed {
		t.Errorf("openapi.yaml describes %s %s, which the handler does not serve", r.Method, r.Path)
	}
	// The comparison itself must see a difference either way.
	if _, ns := diffRoutes(allRoutes(), documentRoutes(t, []byte(strings.Replace(string(OpenAPI), "paths:\n", "paths:\n  /v1/extra:\n    get:\n      responses: {}\n", 1)))); len(ns) != 1 {
		t.Errorf("an extra documented route was not noticed: %v", ns)
	}
	if nd, _ := diffRoutes(append(allRoutes(), Route{"DELETE", "/v1/agent"}), documentRoutes(t, OpenAPI)); len(nd) != 1 {
		t.Errorf("an extra served route was not noticed: %v", nd)
	}
}

// Every route of Routes and ExtraRoutes is really registered: it answers with
// something other than the catch-all's 404 or a 405, and every other method
// gets a 405.
func TestRoutesAreRegistered(t *testing.T) {
	extra := map[Route]http.Handler{}
	for _, r := range ExtraRoutes {
		extra[r] = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	}
	h := NewHandler(Config{Payments: failingService{}, Operators: failingOperators{}, Audit: failingAudit{}, Extra: extra})
	for _, r := range sortRoutes(allRoutes()) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(r.Method, strings.ReplaceAll(strings.ReplaceAll(r.Path, "{", "x"), "}", ""), strings.NewReader("{}")))
		if rec.Code == http.StatusNotFound || rec.Code == http.StatusMethodNotAllowed {
			t.Errorf("%s %s: %d", r.Method, r.Path, rec.Code)
		}
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPatch, r.Path, nil))
		if rec.Code != http.StatusMethodNotAllowed {
			t.Errorf("PATCH %s: %d", r.Path, rec.Code)
		}
	}
	// Without Extra, the extra routes are not there.
	h = NewHandler(Config{Payments: failingService{}, Operators: failingOperators{}, Audit: failingAudit{}})
	for _, r := range ExtraRoutes {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(r.Method, r.Path, nil))
		if rec.Code != http.StatusNotFound {
			t.Errorf("%s %s without Extra: %d", r.Method, r.Path, rec.Code)
		}
	}
}

// An extra route openapi.yaml does not document, or a missing service, is
// refused when the handler is built.
func TestNewHandlerRefusesMisconfiguration(t *testing.T) {
	ok := Config{Payments: failingService{}, Operators: failingOperators{}, Audit: failingAudit{}}
	for name, cfg := range map[string]Config{
		"undocumented extra": {Payments: ok.Payments, Operators: ok.Operators, Audit: ok.Audit,
			Extra: map[Route]http.Handler{{http.MethodGet, "/debug/pprof"}: http.NotFoundHandler()}},
		"nil extra handler": {Payments: ok.Payments, Operators: ok.Operators, Audit: ok.Audit,
			Extra: map[Route]http.Handler{{http.MethodGet, "/readyz"}: nil}},
		"no operators": {Payments: ok.Payments, Audit: ok.Audit},
		"no payments":  {Operators: ok.Operators, Audit: ok.Audit},
		"no audit":     {Payments: ok.Payments, Operators: ok.Operators},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("NewHandler accepted it")
				}
			}()
			NewHandler(cfg)
		})
	}
}

// Each operation's security and x-roles in openapi.yaml are the handler's:
// public routes need no token, agent routes the agent token, and operator
// routes the operator token and exactly the roles the handler admits.
func TestOpenAPIRoles(t *testing.T) {
	var d struct {
		Security []map[string][]string `yaml:"security"`
		Paths    map[string]map[string]struct {
			Security *[]map[string][]string `yaml:"security"`
			Roles    []string               `yaml:"x-roles"`
		} `yaml:"paths"`
	}
	if err := yaml.Unmarshal(OpenAPI, &d); err != nil {
		t.Fatal(err)
	}
	scheme := func(sec *[]map[string][]string) string {
		if sec == nil {
			sec = &d.Security
		}
		var names []string
		for _, m := range *sec {
			for k := range m {
				names = append(names, k)
			}
		}
		return strings.Join(names, ",")
	}
	eps := (&handler{}).endpoints()
	for _, r := range sortRoutes(Routes) {
		op := d.Paths[r.Path][strings.ToLower(r.Method)]
		ep := eps[r]
		var wantScheme string
		switch ep.access {
		case accessAgent:
			wantScheme = "agentToken"
		case accessOperator:
			wantScheme = "operatorToken"
		}
		if got := scheme(op.Security); got != wantScheme {
			t.Errorf("%s %s: security %q, handler wants %q", r.Method, r.Path, got, wantScheme)
		}
		var roles []string
		for _, role := range ep.roles {
			roles = append(roles, string(role))
		}
		if !slices.Equal(op.Roles, roles) {
			t.Errorf("%s %s: x-roles %v, handler admits %v", r.Method, r.Path, op.Roles, roles)
		}
	}
	for _, r := range ExtraRoutes {
		if got := scheme(d.Paths[r.Path][strings.ToLower(r.Method)].Security); got != "" {
			t.Errorf("%s %s is mounted without authentication, the document says %q", r.Method, r.Path, got)
		}
	}
}

// jsonFields are the JSON names of a struct's fields, sorted, those of an
// embedded struct inlined as encoding/json does.
func jsonFields(v any) []string {
	out := jsonNames(reflect.TypeOf(v))
	slices.Sort(out)
	return out
}

func jsonNames(rt reflect.Type) []string {
	var out []string
	for i := range rt.NumField() {
		f := rt.Field(i)
		if f.Anonymous {
			out = append(out, jsonNames(f.Type)...)
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		out = append(out, name)
	}
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
		{"AgentIdentity", d.Components.Schemas["AgentIdentity"], agentResponse{}},
		{"Error", d.Components.Schemas["Error"], errorBody{}},
		{"PaymentSigned", d.Components.Schemas["PaymentSigned"], signedStatus{}},
		{"PaymentPending", d.Components.Schemas["PaymentPending"], pendingStatus{}},
		{"PaymentClosed", d.Components.Schemas["PaymentClosed"], closedStatus{}},
		{"Operator", d.Components.Schemas["Operator"], operatorResponse{}},
		{"Credential", d.Components.Schemas["Credential"], credentialView{}},
		{"CreateCredentialRequest", d.Components.Schemas["CreateCredentialRequest"], createCredentialRequest{}},
		{"IssueAgentCredentialRequest", d.Components.Schemas["IssueAgentCredentialRequest"], issueAgentCredentialRequest{}},
		{"IssuedCredential", d.Components.Schemas["IssuedCredential"], issuedResponse{}},
		{"CredentialAnswer", d.Components.Schemas["CredentialAnswer"], credentialResponse{}},
		{"CredentialList", d.Components.Schemas["CredentialList"], credentialsResponse{}},
		{"Fleet", d.Components.Schemas["Fleet"], fleetView{}},
		{"CreateFleetRequest", d.Components.Schemas["CreateFleetRequest"], createFleetRequest{}},
		{"FleetAnswer", d.Components.Schemas["FleetAnswer"], fleetResponse{}},
		{"FleetList", d.Components.Schemas["FleetList"], fleetsResponse{}},
		{"Group", d.Components.Schemas["Group"], groupView{}},
		{"CreateGroupRequest", d.Components.Schemas["CreateGroupRequest"], createGroupRequest{}},
		{"GroupAnswer", d.Components.Schemas["GroupAnswer"], groupResponse{}},
		{"GroupList", d.Components.Schemas["GroupList"], groupsResponse{}},
		{"Agent", d.Components.Schemas["Agent"], agentView{}},
		{"Key", d.Components.Schemas["Key"], keyView{}},
		{"NewAgent", d.Components.Schemas["NewAgent"], newAgentRequest{}},
		{"ProvisionRequest", d.Components.Schemas["ProvisionRequest"], provisionRequest{}},
		{"Provisioned", d.Components.Schemas["Provisioned"], provisionedView{}},
		{"ProvisionAnswer", d.Components.Schemas["ProvisionAnswer"], provisionResponse{}},
		{"AgentList", d.Components.Schemas["AgentList"], agentsResponse{}},
		{"AgentDetail", d.Components.Schemas["AgentDetail"], agentDetailResponse{}},
		{"AgentAnswer", d.Components.Schemas["AgentAnswer"], agentResponseOp{}},
		{"Policy", d.Components.Schemas["Policy"], policyView{}},
		{"ApplyPolicyRequest", d.Components.Schemas["ApplyPolicyRequest"], applyPolicyRequest{}},
		{"PolicyApplied", d.Components.Schemas["PolicyApplied"], applyPolicyResponse{}},
		{"PolicyVersions", d.Components.Schemas["PolicyVersions"], policiesResponse{}},
		{"Authorization", d.Components.Schemas["Authorization"], authorizationView{}},
		{"AuthorizationList", d.Components.Schemas["AuthorizationList"], authorizationsResponse{}},
		{"Vote", d.Components.Schemas["Vote"], voteView{}},
		{"Approval", d.Components.Schemas["Approval"], approvalView{}},
		{"ApprovalAnswer", d.Components.Schemas["ApprovalAnswer"], approvalResponseOp{}},
		{"ApprovalList", d.Components.Schemas["ApprovalList"], approvalsResponse{}},
		{"AuditRecord", d.Components.Schemas["AuditRecord"], audit.ExportedRecord{}},
		{"AuditRecordList", d.Components.Schemas["AuditRecordList"], auditRecordsResponse{}},
		{"AuditCheckpoint", d.Components.Schemas["AuditCheckpoint"], audit.ExportedCheckpoint{}},
		{"AuditCheckpointList", d.Components.Schemas["AuditCheckpointList"], auditCheckpointsResponse{}},
		{"AuditKey", d.Components.Schemas["AuditKey"], auditKeyResponse{}},
		{"Error.error", d.Components.Schemas["Error"].Properties["error"], errorDetail{}},
	} {
		var props []string
		for p := range tc.schema.Properties {
			props = append(props, p)
		}
		slices.Sort(props)
		if len(props) == 0 {
			t.Errorf("%s: no such schema, or it has no properties", tc.name)
		}
		if want := jsonFields(tc.typ); !slices.Equal(props, want) {
			t.Errorf("%s: document has %v, the Go type %v", tc.name, props, want)
		}
	}
}
