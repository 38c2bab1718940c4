package server

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestEveryCodeHasTitleAndAnchor finds every Code constant in problem.go,
// so a code added without a title or a README anchor fails here.
func TestEveryCodeHasTitleAndAnchor(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "problem.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var codes []Code
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Code" {
				continue
			}
			for _, v := range vs.Values {
				lit, ok := v.(*ast.BasicLit)
				if !ok {
					t.Fatalf("Code constant %v is not a string literal", vs.Names)
				}
				s, _ := strconv.Unquote(lit.Value)
				codes = append(codes, Code(s))
			}
		}
	}
	if len(codes) < 20 {
		t.Fatalf("found only %d codes in problem.go", len(codes))
	}
	for _, c := range codes {
		if codeTitles[c] == "" {
			t.Errorf("code %s has no title", c)
		}
		if !strings.Contains(string(readme), `<a id="error-`+string(c)+`"></a>`) {
			t.Errorf("code %s has no README anchor (<a id=\"error-%s\"></a>)", c, c)
		}
	}
	if len(codeTitles) != len(codes) {
		t.Errorf("%d titles for %d codes", len(codeTitles), len(codes))
	}
}
