# Staged rollout (dry run): resource names should start with the team's slug.
package ssops.naming

import rego.v1

deny contains msg if {
	name := input.request.parameters.name
	not startswith(name, concat("", [input.team.slug, "-"]))
	msg := sprintf("name \"%s\" should start with \"%s-\"", [name, input.team.slug])
}
