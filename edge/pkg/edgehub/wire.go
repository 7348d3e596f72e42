package edgehub

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/kubeedge/beehive/pkg/core/model"

	"github.com/edgecore/edgecore/edge/pkg/jsonscan"
)

// Header is the wire form of a message header (docs/architecture.md §3.1). Unlike
// model.MessageHeader it always writes parent_msg_id, so a reply to a line
// that could not be parsed carries an explicit empty one.
type Header struct {
	ID              string `json:"msg_id"`
	ParentID        string `json:"parent_msg_id"`
	Timestamp       int64  `json:"timestamp"`
	ResourceVersion string `json:"resourceversion,omitempty"`
	Sync            bool   `json:"sync,omitempty"`
}

// Route is the wire form of a message route.
type Route struct {
	Source    string `json:"source,omitempty"`
	Group     string `json:"group,omitempty"`
	Operation string `json:"operation,omitempty"`
	Resource  string `json:"resource,omitempty"`
}

// Wire is one NDJSON line: a KubeEdge-compatible message with its content
// kept as raw JSON.
type Wire struct {
	Header  Header          `json:"header"`
	Route   Route           `json:"route"`
	Content json.RawMessage `json:"content,omitempty"`
}

// DecodeMessage decodes one NDJSON line into a beehive message whose Content
// is the raw JSON of the content (jsonscan.Valid: validated with the line,
// so metaManager does not validate it again; nil when absent). It copies
// what it keeps: line may be reused afterwards.
func DecodeMessage(line []byte) (model.Message, error) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 || line[0] != '{' {
		return model.Message{}, errors.New("invalid message: not a JSON object")
	}
	if !jsonscan.Validate(line) {
		var v interface{}
		err := json.Unmarshal(line, &v)
		if err == nil {
			err = errors.New("invalid JSON")
		}
		return model.Message{}, fmt.Errorf("invalid message: %v", err)
	}
	// One validating pass above; here only the small header and route are
	// decoded, the content is kept as raw bytes.
	var w Wire
	err := jsonscan.Members(line, func(key string, val []byte) error {
		switch key {
		case "header":
			w.Header = Header{}
			if err := json.Unmarshal(val, &w.Header); err != nil {
				return fmt.Errorf("header: %v", err)
			}
		case "route":
			w.Route = Route{}
			if err := json.Unmarshal(val, &w.Route); err != nil {
				return fmt.Errorf("route: %v", err)
			}
		case "content":
			if string(val) == "null" {
				w.Content = nil
			} else {
				w.Content = append(json.RawMessage(nil), val...)
			}
		}
		return nil
	})
	if err != nil {
		return model.Message{}, fmt.Errorf("invalid message: %v", err)
	}
	msg := model.Message{
		Header: model.MessageHeader{
			ID:              w.Header.ID,
			ParentID:        w.Header.ParentID,
			Timestamp:       w.Header.Timestamp,
			ResourceVersion: w.Header.ResourceVersion,
			Sync:            w.Header.Sync,
		},
		Router: model.MessageRoute{
			Source:    w.Route.Source,
			Group:     w.Route.Group,
			Operation: w.Route.Operation,
			Resource:  w.Route.Resource,
		},
	}
	if len(w.Content) > 0 {
		msg.Content = jsonscan.Valid(w.Content)
	}
	return msg, nil
}

// EncodeMessage encodes a message as one NDJSON line (with the trailing
// newline).
func EncodeMessage(msg model.Message) ([]byte, error) {
	w := Wire{
		Header: Header{
			ID:              msg.Header.ID,
			ParentID:        msg.Header.ParentID,
			Timestamp:       msg.Header.Timestamp,
			ResourceVersion: msg.Header.ResourceVersion,
			Sync:            msg.Header.Sync,
		},
		Route: Route{
			Source:    msg.Router.Source,
			Group:     msg.Router.Group,
			Operation: msg.Router.Operation,
			Resource:  msg.Router.Resource,
		},
	}
	switch c := msg.Content.(type) {
	case nil:
	case json.RawMessage:
		w.Content = c
	case jsonscan.Valid:
		w.Content = json.RawMessage(c)
	case []byte:
		w.Content = c
	default:
		b, err := json.Marshal(c)
		if err != nil {
			return nil, err
		}
		w.Content = b
	}
	b, err := json.Marshal(&w)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
