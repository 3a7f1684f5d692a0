// Package apicheck guards the exported API of the module's public
// packages: the SDK at the root, the emulator and its public sub-packages,
// and any package added later that is not under internal/, bench/ or cmd/.
//
// Its tests (run by go test ./... and so by CI) do two things:
//
//   - Listing: they write each package's exported API, one declaration a
//     line, and compare it with the listing checked in under api/ at the
//     module root. A change to the API fails the test until the listing is
//     regenerated with
//
//     go test ./internal/apicheck -run TestAPIListing -update
//
//     so every change to the exported API shows up in review as a change
//     to api/*.txt.
//
//   - Naming: they read every exported identifier (and every JSON key of
//     an exported struct) and fail on a name that breaks the naming rule
//     of docs/naming.md.
//
//   - Imports: they fail when the SDK reaches the emulator or the CLI, the
//     emulator reaches the SDK, or a shared protocol package reaches
//     either (docs/architecture.md, "What may import what").
//
// The package has no non-test users; it lives under internal/ so that it
// is not itself part of the API it guards.
package apicheck

import (
	"fmt"
	"go/token"
	"go/types"
	"path"
	"reflect"
	"slices"
	"strings"

	"golang.org/x/tools/go/packages"
)

// Module is the module path of the repository.
const Module = "github.com/nhkit/notificationhubs"

// Load type-checks the public packages of the module whose root is dir:
// every package that is not under internal/, bench/ or cmd/, is not a
// command, and exports at least one name. They are sorted by path.
func Load(dir string) ([]*packages.Package, error) {
	cfg := &packages.Config{Mode: packages.NeedName | packages.NeedTypes | packages.NeedFiles, Dir: dir}
	pkgs, err := packages.Load(cfg, Module+"/...")
	if err != nil {
		return nil, fmt.Errorf("loading the module's packages: %w", err)
	}
	var out []*packages.Package
	for _, p := range pkgs {
		if len(p.Errors) > 0 {
			return nil, fmt.Errorf("loading %s: %v", p.PkgPath, p.Errors[0])
		}
		if !Public(p.PkgPath) || p.Name == "main" || p.Types == nil || len(p.GoFiles) == 0 {
			continue
		}
		if !exportsAny(p.Types) {
			continue
		}
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b *packages.Package) int { return strings.Compare(a.PkgPath, b.PkgPath) })
	return out, nil
}

// Public reports whether the package at importPath is one users may import
// and whose API is guarded: inside the module, not internal, and not one of
// the benchmark or command trees.
func Public(importPath string) bool {
	if importPath != Module && !strings.HasPrefix(importPath, Module+"/") {
		return false
	}
	rel := strings.TrimPrefix(strings.TrimPrefix(importPath, Module), "/")
	for _, seg := range strings.Split(rel, "/") {
		if seg == "internal" || seg == "testdata" {
			return false
		}
	}
	first, _, _ := strings.Cut(rel, "/")
	return first != "bench" && first != "cmd"
}

func exportsAny(p *types.Package) bool {
	for _, name := range p.Scope().Names() {
		if token.IsExported(name) {
			return true
		}
	}
	return false
}

// ListingFile is the name of p's listing under api/: the import path below
// the module with dots for slashes ("emulator.inbox.txt"), or
// "notificationhubs.txt" for the root package.
func ListingFile(importPath string) string {
	rel := strings.TrimPrefix(strings.TrimPrefix(importPath, Module), "/")
	if rel == "" {
		return path.Base(Module) + ".txt"
	}
	return strings.ReplaceAll(rel, "/", ".") + ".txt"
}

// Listing returns the exported API of p, one declaration a line, sorted:
//
//	const FormatApple Format = "apple"
//	func NewClient(string, string, *SharedAccessKeyCredential, *ClientOptions) (*Client, error)
//	method (*Client) HubName() string
//	type Client struct
//	type Options struct, Hubs []string
//	type Options struct, embedded azcore.ClientOptions
//	type Source interface, Hubs() []Hub
//	var ErrNotFound error
//
// Parameter names are left out (renaming one is not an API change); struct
// tags are kept, because a JSON key is part of what the package promises.
func Listing(p *types.Package) []string {
	q := nameQualifier(p)
	var lines []string
	scope := p.Scope()
	for _, name := range scope.Names() {
		if !token.IsExported(name) {
			continue
		}
		switch obj := scope.Lookup(name).(type) {
		case *types.Const:
			lines = append(lines, fmt.Sprintf("const %s %s = %s", name, typeString(obj.Type(), q), obj.Val().ExactString()))
		case *types.Var:
			lines = append(lines, fmt.Sprintf("var %s %s", name, typeString(obj.Type(), q)))
		case *types.Func:
			lines = append(lines, fmt.Sprintf("func %s%s", name, signature(obj.Type().(*types.Signature), q)))
		case *types.TypeName:
			lines = append(lines, typeLines(obj, q)...)
		}
	}
	slices.Sort(lines)
	return lines
}

func typeLines(obj *types.TypeName, q types.Qualifier) []string {
	name := obj.Name()
	if obj.IsAlias() {
		return []string{fmt.Sprintf("type %s = %s", name, typeString(obj.Type(), q))}
	}
	named, ok := obj.Type().(*types.Named)
	if !ok {
		return nil
	}
	if tp := named.TypeParams(); tp.Len() > 0 {
		var ps []string
		for i := range tp.Len() {
			t := tp.At(i)
			ps = append(ps, t.Obj().Name()+" "+typeString(t.Constraint(), q))
		}
		name += "[" + strings.Join(ps, ", ") + "]"
	}
	var lines []string
	switch u := named.Underlying().(type) {
	case *types.Struct:
		head := "type " + name + " struct"
		lines = append(lines, head)
		for i := range u.NumFields() {
			f := u.Field(i)
			if !f.Exported() {
				continue
			}
			line := head + ", "
			if f.Embedded() {
				line += "embedded " + typeString(f.Type(), q)
			} else {
				line += f.Name() + " " + typeString(f.Type(), q)
			}
			if tag := u.Tag(i); tag != "" {
				line += " `" + tag + "`"
			}
			lines = append(lines, line)
		}
	case *types.Interface:
		head := "type " + name + " interface"
		lines = append(lines, head)
		for i := range u.NumExplicitMethods() {
			m := u.ExplicitMethod(i)
			if m.Exported() {
				lines = append(lines, fmt.Sprintf("%s, %s%s", head, m.Name(), signature(m.Type().(*types.Signature), q)))
			}
		}
		for i := range u.NumEmbeddeds() {
			lines = append(lines, fmt.Sprintf("%s, embedded %s", head, typeString(u.EmbeddedType(i), q)))
		}
	default:
		lines = append(lines, fmt.Sprintf("type %s %s", name, typeString(u, q)))
	}
	for i := range named.NumMethods() {
		m := named.Method(i)
		if !m.Exported() {
			continue
		}
		sig := m.Type().(*types.Signature)
		recv := name
		if _, ptr := sig.Recv().Type().(*types.Pointer); ptr {
			recv = "*" + recv
		}
		lines = append(lines, fmt.Sprintf("method (%s) %s%s", recv, m.Name(), signature(sig, q)))
	}
	return lines
}

// nameQualifier writes other packages by name (context.Context,
// runtime.Pager[T]) and p's own names bare.
func nameQualifier(p *types.Package) types.Qualifier {
	return func(other *types.Package) string {
		if other == p {
			return ""
		}
		return other.Name()
	}
}

// signature prints a function type without parameter names.
func signature(sig *types.Signature, q types.Qualifier) string {
	var b strings.Builder
	b.WriteByte('(')
	params := sig.Params()
	for i := range params.Len() {
		if i > 0 {
			b.WriteString(", ")
		}
		t := params.At(i).Type()
		if sig.Variadic() && i == params.Len()-1 {
			b.WriteString("..." + typeString(t.(*types.Slice).Elem(), q))
			continue
		}
		b.WriteString(typeString(t, q))
	}
	b.WriteByte(')')
	res := sig.Results()
	switch res.Len() {
	case 0:
	case 1:
		b.WriteString(" " + typeString(res.At(0).Type(), q))
	default:
		b.WriteString(" (")
		for i := range res.Len() {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(typeString(res.At(i).Type(), q))
		}
		b.WriteByte(')')
	}
	return b.String()
}

// typeString prints t with other packages by name and function types
// without parameter names.
func typeString(t types.Type, q types.Qualifier) string {
	if sig, ok := t.(*types.Signature); ok {
		return "func" + signature(sig, q)
	}
	if b, ok := t.(*types.Basic); ok && b.Info()&types.IsUntyped != 0 {
		return b.String() // "untyped int"
	}
	return types.TypeString(t, q)
}

// An Identifier is one exported name of a package, with where it is
// declared, for the naming rule.
type Identifier struct {
	// Name is the identifier, or for a JSON key the key.
	Name string
	// Kind says what Name is: "const", "var", "func", "type", "field",
	// "method" or "json key".
	Kind string
	// Where names it in a message: "Client.HubName", "Delivery.Platform".
	Where string
	// ConstType is, for a constant of a named type declared in the same
	// package, that type's name.
	ConstType string
}

// Identifiers returns every exported identifier of p: package-level names,
// fields and methods of exported types, methods of exported interfaces,
// and the JSON keys of exported struct fields.
func Identifiers(p *types.Package) []Identifier {
	var out []Identifier
	scope := p.Scope()
	for _, name := range scope.Names() {
		if !token.IsExported(name) {
			continue
		}
		obj := scope.Lookup(name)
		switch obj := obj.(type) {
		case *types.Const:
			id := Identifier{Name: name, Kind: "const", Where: name}
			if n, ok := obj.Type().(*types.Named); ok && n.Obj().Pkg() == p {
				id.ConstType = n.Obj().Name()
			}
			out = append(out, id)
		case *types.Var:
			out = append(out, Identifier{Name: name, Kind: "var", Where: name})
		case *types.Func:
			out = append(out, Identifier{Name: name, Kind: "func", Where: name})
		case *types.TypeName:
			out = append(out, Identifier{Name: name, Kind: "type", Where: name})
			out = append(out, members(name, obj.Type())...)
		}
	}
	return out
}

func members(typeName string, t types.Type) []Identifier {
	var out []Identifier
	named, ok := t.(*types.Named)
	if !ok {
		return nil
	}
	switch u := named.Underlying().(type) {
	case *types.Struct:
		for i := range u.NumFields() {
			f := u.Field(i)
			if !f.Exported() {
				continue
			}
			where := typeName + "." + f.Name()
			if !f.Embedded() {
				out = append(out, Identifier{Name: f.Name(), Kind: "field", Where: where})
			}
			key, _, _ := strings.Cut(reflect.StructTag(u.Tag(i)).Get("json"), ",")
			if key != "" && key != "-" {
				out = append(out, Identifier{Name: key, Kind: "json key", Where: where})
			}
		}
	case *types.Interface:
		for i := range u.NumExplicitMethods() {
			if m := u.ExplicitMethod(i); m.Exported() {
				out = append(out, Identifier{Name: m.Name(), Kind: "method", Where: typeName + "." + m.Name()})
			}
		}
	}
	for i := range named.NumMethods() {
		if m := named.Method(i); m.Exported() {
			out = append(out, Identifier{Name: m.Name(), Kind: "method", Where: typeName + "." + m.Name()})
		}
	}
	return out
}
