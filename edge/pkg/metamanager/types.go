package metamanager

import (
	"github.com/kubeedge/beehive/pkg/core/model"

	"github.com/edgecore/edgecore/edge/pkg/kube"
	"github.com/edgecore/edgecore/edge/pkg/metamanager/dao"
)

// Operations a message may carry (route.operation).
const (
	OpInsert   = model.InsertOperation
	OpUpdate   = model.UpdateOperation
	OpDelete   = model.DeleteOperation
	OpPatch    = model.PatchOperation
	OpQuery    = model.QueryOperation
	OpResponse = model.ResponseOperation
	OpError    = model.ResponseErrorOperation
)

// ReplyOK is the content of a successful reply to a write.
const ReplyOK = "OK"

// crdRestype is the restype CustomResourceDefinitions arrive with.
const crdRestype = "customresourcedefinition"

// item is one object a message writes or deletes.
type item struct {
	key     dao.Key
	kind    string
	cloudRV string
	obj     map[string]interface{} // nil for a delete without content
	labels  map[string]string
	fields  map[string]string
	// data / rvOff: obj encoded by dao.EncodeObject on the worker, so the
	// store's single writer only splices the revision in (puts only).
	data  []byte
	rvOff int
	// labelsJSON / fieldsJSON: labels and fields encoded for the store, here
	// rather than on its writer (puts only).
	labelsJSON, fieldsJSON []byte
}

// plan is a validated message: everything that can be checked without the
// store has been checked, so applying it can only fail on the store itself
// (or, for a patch, on the stored object).
type plan struct {
	op    string
	res   Resource
	kr    kube.Resource
	items []item
	// noop: acknowledged without touching the store (a response without an object).
	noop bool
	// query
	key dao.Key
	// patch
	patch   []byte
	patchRV string
}

// crdChange is a CRD change to mirror in the mapper once committed.
type crdChange struct {
	name string
	obj  map[string]interface{} // nil = removed
}
