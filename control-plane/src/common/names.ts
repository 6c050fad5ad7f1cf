/** Names of agents and connections appear in shell commands and URLs, so they stay simple. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;
export const NAME_RULE = "must be 1-63 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit";
