// Command awscalls prints the AWS API operations a binary of this module can
// call, derived from its code: the IAM actions its role needs. The
// CloudFormation tests compare them with the template's grants, so a new SDK
// call without a grant (or a grant nobody calls) fails `make test`.
//
//	go run ./tools/awscalls -tags lambda.norpc ./cmd/mcp-dcr runLambda
//	go run ./tools/awscalls ./cmd/mcp-gateway wire '*app.run'
//
// Method: the package and its dependencies are loaded and built into SSA;
// the functions reachable from the named roots of the main package are found
// in a VTA call graph (refined from CHA, so interface calls resolve to the
// types that actually flow there); function values handed to lambda.Start,
// which the Lambda runtime calls by reflection, are roots too. Every call
// site in a reachable function, static or through an interface, of a method
// Op whose second parameter is *<service>.OpInput of a service package in
// awsServices names the action <prefix>:Op.
//
// Calls a service package's paginators and waiters make on the client they
// are given count too. Not covered: calls made only through reflection other
// than lambda.Start, and services outside awsServices. It prints
// one action per line, sorted.
package main

import (
	"flag"
	"fmt"
	"go/types"
	"os"
	"sort"
	"strings"

	"golang.org/x/tools/go/callgraph"
	"golang.org/x/tools/go/callgraph/cha"
	"golang.org/x/tools/go/callgraph/vta"
	"golang.org/x/tools/go/packages"
	"golang.org/x/tools/go/ssa"
	"golang.org/x/tools/go/ssa/ssautil"
)

// awsServices maps an aws-sdk-go-v2 service package to its IAM prefix.
var awsServices = map[string]string{
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider": "cognito-idp",
	"github.com/aws/aws-sdk-go-v2/service/dynamodb":                "dynamodb",
}

func main() {
	tags := flag.String("tags", "", "build tags, comma-separated")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: awscalls [-tags T] PACKAGE ROOT...\nROOT is a function (name) or method (Type.name, *Type.name) of the main package.")
	}
	flag.Parse()
	if flag.NArg() < 2 {
		flag.Usage()
		os.Exit(2)
	}
	actions, err := analyze(flag.Arg(0), *tags, flag.Args()[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "awscalls:", err)
		os.Exit(1)
	}
	for _, a := range actions {
		fmt.Println(a)
	}
}

// analyze loads pattern (one main package) and returns the sorted IAM
// actions of the SDK calls reachable from roots.
func analyze(pattern, tags string, roots []string) ([]string, error) {
	cfg := &packages.Config{Mode: packages.LoadAllSyntax, BuildFlags: []string{"-tags=" + tags}}
	pkgs, err := packages.Load(cfg, pattern)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", pattern, err)
	}
	if n := packages.PrintErrors(pkgs); n > 0 {
		return nil, fmt.Errorf("load %s: %d errors", pattern, n)
	}
	if len(pkgs) != 1 || pkgs[0].Name != "main" {
		return nil, fmt.Errorf("%s: want one main package", pattern)
	}
	prog, ssaPkgs := ssautil.AllPackages(pkgs, ssa.InstantiateGenerics)
	prog.Build()
	var fns []*ssa.Function
	for _, r := range roots {
		fn, err := lookup(prog, ssaPkgs[0], r)
		if err != nil {
			return nil, err
		}
		fns = append(fns, fn)
	}
	set := map[string]bool{}
	for fn := range reachable(prog, fns) {
		// Inside a service package, only calls through an interface count:
		// its paginators and waiters call the operation on the client they
		// are given; its client's own methods call no other operation.
		_, inSDK := awsServices[pkgPath(fn)]
		for _, b := range fn.Blocks {
			for _, instr := range b.Instrs {
				call, ok := instr.(ssa.CallInstruction)
				if !ok || (inSDK && !call.Common().IsInvoke()) {
					continue
				}
				if a := sdkAction(call.Common()); a != "" {
					set[a] = true
				}
			}
		}
	}
	out := make([]string, 0, len(set))
	for a := range set {
		out = append(out, a)
	}
	sort.Strings(out)
	return out, nil
}

// pkgPath is the import path of fn's package ("" for synthetic functions).
func pkgPath(fn *ssa.Function) string {
	if fn.Pkg == nil {
		return ""
	}
	return fn.Pkg.Pkg.Path()
}

// lookup finds a root: a function "name" or a method "Type.name" or
// "*Type.name" of the main package.
func lookup(prog *ssa.Program, main *ssa.Package, name string) (*ssa.Function, error) {
	recv, meth, isMethod := strings.Cut(name, ".")
	if !isMethod {
		if fn := main.Func(name); fn != nil {
			return fn, nil
		}
		return nil, fmt.Errorf("no function %s in %s", name, main.Pkg.Path())
	}
	obj := main.Pkg.Scope().Lookup(strings.TrimPrefix(recv, "*"))
	if obj == nil {
		return nil, fmt.Errorf("no type %s in %s", recv, main.Pkg.Path())
	}
	T := obj.Type()
	if strings.HasPrefix(recv, "*") {
		T = types.NewPointer(T)
	}
	sel := prog.MethodSets.MethodSet(T).Lookup(main.Pkg, meth)
	if sel == nil {
		return nil, fmt.Errorf("no method %s", name)
	}
	return prog.MethodValue(sel), nil
}

// sdkAction names the IAM action of an aws-sdk-go-v2 operation call: a
// call, static or through an interface, of a method Op whose second
// parameter is *<service>.OpInput.
func sdkAction(c *ssa.CallCommon) string {
	var name string
	var sig *types.Signature
	switch {
	case c.IsInvoke():
		name, sig = c.Method.Name(), c.Method.Type().(*types.Signature)
	case c.StaticCallee() != nil && c.StaticCallee().Signature.Recv() != nil:
		name, sig = c.StaticCallee().Name(), c.StaticCallee().Signature
	default:
		return ""
	}
	if sig.Params().Len() < 2 {
		return ""
	}
	ptr, ok := sig.Params().At(1).Type().(*types.Pointer)
	if !ok {
		return ""
	}
	named, ok := ptr.Elem().(*types.Named)
	if !ok || named.Obj().Pkg() == nil || named.Obj().Name() != name+"Input" {
		return ""
	}
	prefix, ok := awsServices[named.Obj().Pkg().Path()]
	if !ok {
		return ""
	}
	return prefix + ":" + name
}

// reachable returns the functions reachable from roots in a VTA call graph
// (refined from CHA). Function values handed to lambda.Start, which the
// Lambda runtime calls by reflection, are added to the roots first.
func reachable(prog *ssa.Program, roots []*ssa.Function) map[*ssa.Function]bool {
	chaGraph := cha.CallGraph(prog)
	within := bfs(chaGraph, roots)
	for {
		extra := false
		for fn := range within {
			for _, f := range lambdaHandlers(fn) {
				if !contains(roots, f) {
					roots, extra = append(roots, f), true
				}
			}
		}
		if !extra {
			break
		}
		within = bfs(chaGraph, roots)
	}
	return bfs(vta.CallGraph(within, chaGraph), roots)
}

// lambdaHandlers returns the functions fn hands to lambda.Start.
func lambdaHandlers(fn *ssa.Function) []*ssa.Function {
	var out []*ssa.Function
	for _, b := range fn.Blocks {
		for _, instr := range b.Instrs {
			call, ok := instr.(ssa.CallInstruction)
			if !ok {
				continue
			}
			callee := call.Common().StaticCallee()
			if callee == nil || callee.Pkg == nil || callee.Pkg.Pkg.Path() != "github.com/aws/aws-lambda-go/lambda" || callee.Name() != "Start" {
				continue
			}
			out = append(out, funcValues(call.Common().Args[0])...)
		}
	}
	return out
}

// contains reports whether f is among fns.
func contains(fns []*ssa.Function, f *ssa.Function) bool {
	for _, g := range fns {
		if g == f {
			return true
		}
	}
	return false
}

// funcValues returns the functions a handler value may be: a converted or
// closed-over function, or the closures the function returning it creates.
func funcValues(v ssa.Value) []*ssa.Function {
	switch v := v.(type) {
	case *ssa.MakeInterface:
		return funcValues(v.X)
	case *ssa.ChangeType:
		return funcValues(v.X)
	case *ssa.Function:
		return []*ssa.Function{v}
	case *ssa.MakeClosure:
		return []*ssa.Function{v.Fn.(*ssa.Function)}
	case *ssa.Call:
		if fn := v.Call.StaticCallee(); fn != nil {
			var out []*ssa.Function
			for _, b := range fn.Blocks {
				if ret, ok := b.Instrs[len(b.Instrs)-1].(*ssa.Return); ok {
					for _, r := range ret.Results {
						out = append(out, funcValues(r)...)
					}
				}
			}
			return out
		}
	}
	return nil
}

// bfs returns the functions reachable from roots in g.
func bfs(g *callgraph.Graph, roots []*ssa.Function) map[*ssa.Function]bool {
	seen := map[*ssa.Function]bool{}
	queue := append([]*ssa.Function(nil), roots...)
	for len(queue) > 0 {
		fn := queue[0]
		queue = queue[1:]
		if seen[fn] {
			continue
		}
		seen[fn] = true
		if n := g.Nodes[fn]; n != nil {
			for _, e := range n.Out {
				queue = append(queue, e.Callee.Func)
			}
		}
	}
	return seen
}
