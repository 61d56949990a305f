//go:build !unix

package secret

import "io/fs"

// device is the file system a file is on; unknown here.
func device(fs.FileInfo) (uint64, bool) { return 0, false }
