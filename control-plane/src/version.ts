/** Reported in the OpenAPI document and the start-up log line. Keep in step with package.json. */
export const CONTROL_PLANE_VERSION = '0.1.0';
