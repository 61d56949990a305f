package cli

import "github.com/spf13/cobra"

// addCommands registers the capability commands, in the order help lists
// them. Each command lives in its own file of this package.
func addCommands(root *cobra.Command, s *streams) {
	for _, newCmd := range []func(*streams) *cobra.Command{
		// one line per top-level command
		newKubeCmd,
		newDockerfileCmd,
		newServeCmd,
		newHealthCmd,
		newCertsCmd,
		newAPIServerConfigCmd,
		newPolicyCmd,
		newSBOMCmd,
		newDBCmd,
		newVerifyCmd,
		newImageCmd,
		newFSCmd,
		newRootfsCmd,
		newRepoCmd,
		newSBOMScanCmd,
		newExplainCmd,
	} {
		root.AddCommand(newCmd(s))
	}
}
