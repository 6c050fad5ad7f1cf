/** Names of agents and connections appear in shell commands and URLs, so they stay simple. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;
export const NAME_RULE = "must be 1-63 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit";

/** User names may be e-mail addresses (alice@example.com), as OIDC will bring them. */
export const USER_NAME_PATTERN = /^[a-z0-9][a-z0-9._@+-]{0,127}$/;
export const USER_NAME_RULE = "must be 1-128 lowercase letters, digits, '.', '_', '@', '+' or '-', starting with a letter or digit";

export const GROUP_NAME_PATTERN = NAME_PATTERN;
export const GROUP_NAME_RULE = NAME_RULE;
