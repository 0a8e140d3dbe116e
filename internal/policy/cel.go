package policy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"cel.dev/cel-go/cel"
	celast "cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/interpreter"
)

// CEL limits. An honest rule costs well under a thousand units; the limits bound what
// a hostile or careless expression can make the signer do on every payment.
const (
	maxCELExprLen = 4096
	celCostLimit  = 100_000
	// celTimeout is the wall-clock backstop behind the cost limit; it is checked every
	// celInterruptEvery comprehension iterations.
	celTimeout        = 100 * time.Millisecond
	celInterruptEvery = 64
)

// celRequest, celAgent and celWindow are the CEL view of an evaluation. They are Go
// structs exposed as native CEL object types, so a misspelt field is a type error at
// Parse instead of a denial at signing time.
type celRequest struct {
	Amount          int64  `cel:"amount"`
	AmountAtomic    string `cel:"amount_atomic"`
	PayTo           string `cel:"pay_to"`
	Asset           string `cel:"asset"`
	AssetSymbol     string `cel:"asset_symbol"`
	Network         string `cel:"network"`
	Scheme          string `cel:"scheme"`
	Host            string `cel:"host"`
	Origin          string `cel:"origin"`
	URL             string `cel:"url"`
	Method          string `cel:"method"`
	ValidForSeconds int64  `cel:"valid_for_seconds"`
}

type celAgent struct {
	ID     string            `cel:"id"`
	Name   string            `cel:"name"`
	Group  string            `cel:"group"`
	Fleet  string            `cel:"fleet"`
	Labels map[string]string `cel:"labels"`
}

type celWindow struct {
	Amount int64 `cel:"amount"`
	Count  int64 `cel:"count"`
}

type celSpend struct {
	Fleet map[string]celWindow `cel:"fleet"`
	Group map[string]celWindow `cel:"group"`
	Agent map[string]celWindow `cel:"agent"`
	// Requests is the number of requests in the trailing minute per level, as in the
	// snapshot ("fleet", "group", "agent").
	Requests map[string]int64 `cel:"requests"`
}

// celEnv is built once: it is immutable after construction and safe to share, and
// building it is by far the most expensive part of compiling a rule.
var celEnv, celEnvErr = newCELEnv()

func newCELEnv() (*cel.Env, error) {
	tag := types.ParseStructTags(true)
	return cel.NewEnv(
		cel.Types(
			cel.NativeTypeFor[celRequest](tag, cel.NativeTypeAlias("fleetkey.Request")),
			cel.NativeTypeFor[celAgent](tag, cel.NativeTypeAlias("fleetkey.Agent")),
			cel.NativeTypeFor[celWindow](tag, cel.NativeTypeAlias("fleetkey.Window")),
			cel.NativeTypeFor[celSpend](tag, cel.NativeTypeAlias("fleetkey.Spend")),
		),
		cel.Variable("request", cel.ObjectType("fleetkey.Request")),
		cel.Variable("agent", cel.ObjectType("fleetkey.Agent")),
		cel.Variable("spend", cel.ObjectType("fleetkey.Spend")),
		cel.Variable("now", cel.TimestampType),
		cel.Function("micro",
			cel.Overload("micro_string", []*cel.Type{cel.StringType}, cel.IntType,
				cel.UnaryBinding(celMicro))),
		cel.ParserExpressionSizeLimit(maxCELExprLen),
		cel.ParserRecursionLimit(64),
	)
}

// celMicro implements micro("2.50") → 2500000 so rules can be written in whole units.
func celMicro(v ref.Val) ref.Val {
	s, ok := v.(types.String)
	if !ok {
		return types.MaybeNoSuchOverloadErr(v)
	}
	n, err := parseAmount(string(s))
	if err != nil {
		return types.NewErr("micro: %s", err)
	}
	return types.Int(n)
}

// celRule is a compiled `cel` entry.
type celRule struct {
	name, expr, denyReason string
	prg                    cel.Program
	// reads are the window totals the expression reads with a constant key, e.g.
	// spend.agent["1h"]; they join Set.SnapshotSpec.
	reads []SpendKey
}

// celIssue is a compile error located inside the expression (1-based line/column).
type celIssue struct {
	line, col int
	msg       string
}

func compileCEL(expr string) (cel.Program, []SpendKey, []celIssue) {
	if celEnvErr != nil {
		return nil, nil, []celIssue{{msg: "CEL environment: " + celEnvErr.Error()}}
	}
	if len(expr) > maxCELExprLen {
		return nil, nil, []celIssue{{msg: fmt.Sprintf("expression is longer than %d bytes", maxCELExprLen)}}
	}
	ast, iss := celEnv.Compile(expr)
	if iss != nil && iss.Err() != nil {
		var out []celIssue
		for _, e := range iss.Errors() {
			loc := e.Location
			line, col := 0, 0
			if loc != nil {
				line, col = loc.Line(), loc.Column()+1
			}
			out = append(out, celIssue{line: line, col: col, msg: strings.TrimSpace(e.Message)})
		}
		return nil, nil, out
	}
	if !ast.OutputType().IsExactType(cel.BoolType) {
		return nil, nil, []celIssue{{msg: fmt.Sprintf("expression must be a boolean, not %s", ast.OutputType())}}
	}
	reads, issues := spendReads(ast)
	if issues != nil {
		return nil, nil, issues
	}
	// No cel.OptOptimize: it would fold constant sub-expressions while compiling,
	// outside the cost limit, so a hostile constant expression could stall Parse.
	prg, err := celEnv.Program(ast,
		cel.CostLimit(celCostLimit),
		cel.InterruptCheckFrequency(celInterruptEvery),
	)
	if err != nil {
		return nil, nil, []celIssue{{msg: err.Error()}}
	}
	return prg, reads, nil
}

// spendReads finds every spend.<level>["<window>"] with a constant key, so the caller
// can load those totals, and refuses a key that is not a window in canonical spelling
// (spend.agent["60m"] would never find the "1h" total).
func spendReads(ast *cel.Ast) ([]SpendKey, []celIssue) {
	var reads []SpendKey
	var issues []celIssue
	native := ast.NativeRep()
	for _, e := range celast.MatchDescendants(celast.NavigateAST(native), celast.FunctionMatcher(operators.Index)) {
		args := e.AsCall().Args()
		if len(args) != 2 || args[0].Kind() != celast.SelectKind || args[1].Kind() != celast.LiteralKind {
			continue
		}
		sel := args[0].AsSelect()
		if sel.Operand().Kind() != celast.IdentKind || sel.Operand().AsIdent() != "spend" {
			continue
		}
		level, ok := parseLevel(sel.FieldName())
		if !ok {
			continue
		}
		key, ok := args[1].AsLiteral().(types.String)
		if !ok {
			continue
		}
		loc := native.SourceInfo().GetStartLocation(args[1].ID())
		issue := celIssue{line: loc.Line(), col: loc.Column() + 1}
		dur, err := parseDuration(string(key))
		if err != nil || dur < minWindow || dur > maxWindow {
			issue.msg = fmt.Sprintf("spend.%s[%q]: not a window from 1s to 31d", level, string(key))
			issues = append(issues, issue)
			continue
		}
		if canon := formatDuration(dur); canon != string(key) {
			issue.msg = fmt.Sprintf("spend.%s[%q]: write the window as %q", level, string(key), canon)
			issues = append(issues, issue)
			continue
		}
		k := SpendKey{level, dur}
		if !slices.Contains(reads, k) {
			reads = append(reads, k)
		}
	}
	return reads, issues
}

// celVars is the activation for one evaluation, shared by every rule at every level.
// Each variable is built on first use only: most rules read one or two of them.
type celVars struct {
	e     *evaluation
	req   *celRequest
	agent *celAgent
	spend *celSpend
}

func (v *celVars) ResolveName(name string) (any, bool) {
	switch name {
	case "request":
		if v.req == nil {
			v.req = v.e.celRequest()
		}
		return v.req, true
	case "agent":
		if v.agent == nil {
			a := &v.e.req.Agent
			labels := a.Labels
			if labels == nil {
				labels = map[string]string{}
			}
			v.agent = &celAgent{ID: a.ID, Name: a.Name, Group: a.Group, Fleet: a.Fleet, Labels: labels}
		}
		return v.agent, true
	case "spend":
		if v.spend == nil {
			v.spend = v.e.celSpend()
		}
		return v.spend, true
	case "now":
		return v.e.now, true
	}
	return nil, false
}

func (v *celVars) Parent() interpreter.Activation { return nil }

// eval runs one rule: (true, nil) allows, (false, nil) denies, an error denies too.
func (r *celRule) eval(ctx context.Context, v *celVars) (bool, error) {
	out, _, err := r.prg.ContextEval(ctx, v)
	if err != nil {
		return false, err
	}
	b, ok := out.(types.Bool)
	if !ok {
		return false, errors.New("expression did not return a boolean")
	}
	return bool(b), nil
}
