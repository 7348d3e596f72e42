package printers

import "github.com/edgecore/edgecore/edge/pkg/jsonscan"

// scanner is jsonscan.Scanner (the project's one pull-style JSON reader)
// under the short lower-case names the printers were written with, plus the
// printer-only readers span and time (meta.go). The forwarders keep this
// change out of the row functions; calling jsonscan.Scanner's methods
// directly there would let this file go.
type scanner struct{ jsonscan.Scanner }

func newScanner(b []byte) scanner { return scanner{jsonscan.NewScanner(b)} }

func (s *scanner) beginObject() bool       { return s.BeginObject() }
func (s *scanner) nextKey() ([]byte, bool) { return s.NextKey() }
func (s *scanner) beginArray() bool        { return s.BeginArray() }
func (s *scanner) nextElem() bool          { return s.NextElem() }
func (s *scanner) strBytes() []byte        { return s.StrBytes() }
func (s *scanner) str() string             { return s.Str() }
func (s *scanner) number() []byte          { return s.Number() }
func (s *scanner) int() int64              { return s.Int() }
func (s *scanner) boolean() bool           { return s.Bool() }
func (s *scanner) isNull() bool            { return s.IsNull() }
func (s *scanner) raw() (int, int)         { return s.Raw() }
func (s *scanner) skip()                   { s.Skip() }
func (s *scanner) countMembers() int       { return s.CountMembers() }
func (s *scanner) countElems() int         { return s.CountElems() }
