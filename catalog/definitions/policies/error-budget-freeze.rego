# While the service a request changes is frozen (one of its SLOs has spent its error budget or
# is paging), medium- and high-risk changes to its production environments wait: only fixes
# and break-glass changes go through. Missing SLO data never freezes on its own: it warns.
package ssops.error_budget_freeze

import rego.v1

# The environments a freeze holds. To change them, edit this set (a new policy version).
frozen_environments := {"prod", "production"}

# The kinds of change a freeze lets through (the requester says which; approvers see it).
exempt := {"fix": "a fix", "break_glass": "break-glass"}

in_frozen_environment if {
	input.service.frozen
	input.service.environment in frozen_environments
}

deny contains msg if {
	in_frozen_environment
	input.request.risk_tier in {"medium", "high"}
	not exempt[input.request.change_kind]
	some reason in input.service.reasons
	msg := sprintf("%s is frozen: %s; until it recovers only fixes and break-glass changes reach %s", [input.service.name, reason, input.service.environment])
}

# rego-cpp 1.5 quotes strings made by concat() or replace() inside sprintf: one warning per
# reason, and the change kind's words from the table above.
warn contains msg if {
	in_frozen_environment
	word := exempt[input.request.change_kind]
	some reason in input.service.reasons
	msg := sprintf("%s is frozen (%s); this request goes through as %s", [input.service.name, reason, word])
}

warn contains msg if {
	input.service.override
	input.service.held_by_slos
	msg := sprintf("%s's freeze is lifted until %s by %s: %s", [input.service.name, input.service.override.until, input.service.override.by, input.service.override.reason])
}

warn contains msg if {
	input.service.environment in frozen_environments
	some warning in input.service.warnings
	msg := warning
}
