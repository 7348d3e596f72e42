// Command funclen lists production functions longer than a limit (default 80
// lines) that do not say at their top why they are long. It is how
// docs/architecture.md's rule "functions short enough to hold in your head"
// is checked: `go run ./hack/funclen ./cmd ./edge` exits 1 when one is found.
//
// A function is excused when its doc comment contains "Long because" (the
// reason follows). Test files and generated files are skipped.
package main

import (
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	limit := flag.Int("max", 80, "longest function body allowed, in lines")
	flag.Parse()
	roots := flag.Args()
	if len(roots) == 0 {
		roots = []string{"."}
	}
	var found []string
	for _, root := range roots {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !isProductionGo(path) {
				return err
			}
			long, err := longFuncs(path, *limit)
			found = append(found, long...)
			return err
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, "funclen:", err)
			os.Exit(2)
		}
	}
	for _, f := range found {
		fmt.Println(f)
	}
	if len(found) > 0 {
		fmt.Fprintf(os.Stderr, "funclen: %d function(s) over %d lines without a \"Long because\" reason\n", len(found), *limit)
		os.Exit(1)
	}
}

func isProductionGo(path string) bool {
	return strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go")
}

// longFuncs returns "file:line name lines" for each function (or function
// literal assigned at package level) in path longer than limit lines.
func longFuncs(path string, limit int) ([]string, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	if ast.IsGenerated(f) {
		return nil, nil
	}
	var out []string
	for _, decl := range f.Decls {
		fn, ok := decl.(*ast.FuncDecl)
		if !ok || fn.Body == nil {
			continue
		}
		start, end := fset.Position(fn.Body.Lbrace).Line, fset.Position(fn.Body.Rbrace).Line
		n := end - start - 1
		if n <= limit || excused(fn.Doc) {
			continue
		}
		out = append(out, fmt.Sprintf("%s:%d %s %d lines", path, fset.Position(fn.Pos()).Line, funcName(fn), n))
	}
	return out, nil
}

func excused(doc *ast.CommentGroup) bool {
	return doc != nil && strings.Contains(doc.Text(), "Long because")
}

func funcName(fn *ast.FuncDecl) string {
	if fn.Recv == nil || len(fn.Recv.List) == 0 {
		return fn.Name.Name
	}
	t := fn.Recv.List[0].Type
	if s, ok := t.(*ast.StarExpr); ok {
		t = s.X
	}
	if ix, ok := t.(*ast.IndexExpr); ok {
		t = ix.X
	}
	if id, ok := t.(*ast.Ident); ok {
		return id.Name + "." + fn.Name.Name
	}
	return fn.Name.Name
}
