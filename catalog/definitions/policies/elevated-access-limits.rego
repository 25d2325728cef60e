# Elevated access is short: admin for at most 8 hours; anything over 4 hours gets a warning.
package ssops.elevated_access

import rego.v1

elevated if input.template.name == "elevated-access"

deny contains msg if {
	elevated
	input.request.parameters.role == "admin"
	input.request.ttl_hours > 8
	msg := sprintf("admin access is limited to 8 hours, not %d", [input.request.ttl_hours])
}

deny contains "production admin access needs an incident or change ticket" if {
	elevated
	input.request.parameters.role == "admin"
	not startswith(object.get(input.request.parameters, "ticket", ""), "INC-")
	not startswith(object.get(input.request.parameters, "ticket", ""), "CHG-")
}

warn contains msg if {
	elevated
	input.request.ttl_hours > 4
	msg := sprintf("access for %d hours: ask for less if you can", [input.request.ttl_hours])
}
