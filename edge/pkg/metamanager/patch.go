package metamanager

import (
	"errors"
	"fmt"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"

	"github.com/edgecore/edgecore/edge/pkg/kube"
	"github.com/edgecore/edgecore/edge/pkg/metamanager/dao"
)

// patchObject applies a patch to a stored object's JSON: a strategic merge
// patch for kinds compiled into client-go's scheme, a JSON merge patch (RFC
// 7386) for everything else (CRD objects).
func patchObject(kr kube.Resource, kind string, original, patch []byte) ([]byte, error) {
	if kr.BuiltIn {
		if typed, err := clientgoscheme.Scheme.New(kr.GVR.GroupVersion().WithKind(kind)); err == nil {
			out, err := strategicpatch.StrategicMergePatch(original, patch, typed)
			if err != nil {
				return nil, fmt.Errorf("strategic merge patch: %v", err)
			}
			return out, nil
		}
	}
	out, err := jsonpatch.MergePatch(original, patch)
	if err != nil {
		return nil, fmt.Errorf("merge patch: %v", err)
	}
	return out, nil
}

// applyPatch patches the stored object inside the writer's transaction.
func (m *MetaManager) applyPatch(tx dao.Tx, p *plan, crds *[]crdChange) error {
	cur, err := tx.Get(p.key)
	if errors.Is(err, dao.ErrNotFound) {
		return notFound(p.kr, p.key.Name)
	}
	if err != nil {
		return err
	}
	if notNewer(p.patchRV, cur.CloudRV) {
		return nil // stale or duplicate
	}
	out, err := patchObject(p.kr, cur.Kind, cur.Data, p.patch)
	if err != nil {
		return err
	}
	obj, err := decodeObject(out)
	if err != nil {
		return fmt.Errorf("patched object: %v", err)
	}
	orig, err := decodeObject(cur.Data)
	if err != nil {
		return fmt.Errorf("stored object: %v", err)
	}
	for _, f := range [][]string{{"apiVersion"}, {"kind"}, {"metadata", "name"}, {"metadata", "namespace"}} {
		if stringAt(obj, f...) != stringAt(orig, f...) {
			return fmt.Errorf("patch must not change %s", joinPath(f))
		}
	}
	res := Resource{Namespace: p.res.Namespace, Restype: p.res.Restype, Name: p.key.Name}
	it, err := m.prepareItem(itemContext{kr: p.kr, res: res, op: OpPatch}, obj, nil)
	if err != nil {
		return fmt.Errorf("patched object: %v", err)
	}
	it.cloudRV = p.patchRV
	if it.cloudRV == "" {
		it.cloudRV = cur.CloudRV
	}
	if _, err := tx.Put(dao.PutRequest{
		Key: it.key, Kind: cur.Kind, CloudRV: it.cloudRV,
		Object: it.obj, Labels: it.labels, Fields: it.fields,
	}); err != nil {
		return err
	}
	if it.key.GVR == kube.CRDResource {
		*crds = append(*crds, crdChange{name: it.key.Name, obj: it.obj})
	}
	return nil
}

func joinPath(p []string) string {
	s := p[0]
	for _, e := range p[1:] {
		s += "." + e
	}
	return s
}
