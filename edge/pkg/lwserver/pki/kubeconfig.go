package pki

import (
	clientcmdv1 "k8s.io/client-go/tools/clientcmd/api/v1"
	"sigs.k8s.io/yaml"
)

// Kubeconfig is an admin kubeconfig for server (https://HOST:PORT) trusting
// caPEM and presenting the client pair.
func Kubeconfig(server string, caPEM []byte, client *Pair) ([]byte, error) {
	const name = "edgecore"
	cfg := clientcmdv1.Config{
		Kind:           "Config",
		APIVersion:     "v1",
		CurrentContext: name,
		Clusters: []clientcmdv1.NamedCluster{{Name: name, Cluster: clientcmdv1.Cluster{
			Server: server, CertificateAuthorityData: caPEM}}},
		AuthInfos: []clientcmdv1.NamedAuthInfo{{Name: AdminUser, AuthInfo: clientcmdv1.AuthInfo{
			ClientCertificateData: client.CertPEM, ClientKeyData: client.KeyPEM}}},
		Contexts: []clientcmdv1.NamedContext{{Name: name, Context: clientcmdv1.Context{
			Cluster: name, AuthInfo: AdminUser}}},
	}
	return yaml.Marshal(cfg)
}
