package policy

// DefaultName stands for the built-in policy wherever a policy file is named.
const DefaultName = "default"

// Resolve returns the built-in policy for DefaultName and loads any other
// name as a policy file.
func Resolve(name string) (*Policy, error) {
	if name == DefaultName {
		return Default(), nil
	}
	return Load(name)
}
