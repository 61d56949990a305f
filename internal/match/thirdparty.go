package match

import (
	"strings"

	"github.com/tollgate-dev/tollgate/internal/inventory"
)

// thirdPartyMaintainers are the maintainer addresses of the vendors that
// ship .deb packages from their own repositories (nginx.org's packages in
// the official nginx image, Docker, NVIDIA, MongoDB, Elastic, NodeSource,
// Grafana). Their packages carry the vendor's version scheme, not the
// distro's, and the distro's advisories are about a different build: a
// match would be noise and a miss would be false comfort, so they are
// listed as not matched. The same vendors are in Trivy's list
// (pkg/fanal/analyzer/pkg/dpkg), which drops them silently.
var thirdPartyMaintainers = []string{
	"nginx-packaging@f5.com",
	"@nginx.com",
	"@docker.com",
	"@nvidia.com",
	"@mongodb.com",
	"@elastic.co",
	"@nodesource.com",
	"@grafana.com",
}

// thirdParty returns why a distro package comes from a third-party
// repository, "" when it does not.
func thirdParty(p *inventory.Package) string {
	if p.Type != inventory.TypeDpkg || p.Maintainer == "" {
		return ""
	}
	m := strings.ToLower(p.Maintainer)
	for _, s := range thirdPartyMaintainers {
		if strings.Contains(m, s) {
			return "maintained by " + p.Maintainer + ", a vendor repository the distro's advisories do not cover"
		}
	}
	return ""
}
