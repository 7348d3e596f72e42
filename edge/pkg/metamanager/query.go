package metamanager

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/edgecore/edgecore/edge/pkg/kube"
	"github.com/edgecore/edgecore/edge/pkg/metamanager/dao"
)

func notFound(kr kube.Resource, name string) error {
	return fmt.Errorf("%s %q not found", kr.GVR.GroupResource().String(), name)
}

func (m *MetaManager) query(ctx context.Context, p *plan) (interface{}, error) {
	if p.res.Name != "" {
		st, err := m.store.Get(ctx, p.key)
		if errors.Is(err, dao.ErrNotFound) {
			return nil, notFound(p.kr, p.res.Name)
		}
		if err != nil {
			return nil, err
		}
		return json.RawMessage(st.Data), nil
	}
	lr, err := m.store.List(ctx, p.kr.GVR, dao.ListOptions{Namespace: p.key.Namespace})
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString(`{"apiVersion":`)
	writeJSONString(&b, p.kr.GVR.GroupVersion().String())
	b.WriteString(`,"kind":`)
	writeJSONString(&b, p.kr.ListKind)
	b.WriteString(`,"metadata":{"resourceVersion":"`)
	b.WriteString(strconv.FormatInt(lr.Revision, 10))
	b.WriteString(`"},"items":[`)
	for i, it := range lr.Items {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(it.Data)
	}
	b.WriteString(`]}`)
	return json.RawMessage(b.Bytes()), nil
}

func writeJSONString(b *bytes.Buffer, s string) {
	q, _ := json.Marshal(s)
	b.Write(q)
}
