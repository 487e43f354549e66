/** Where a dashboard listens unless told otherwise: this machine only. Apart so the CLI's help needs no server code. */
export const DEFAULT_DASHBOARD_HOST = '127.0.0.1';
export const DEFAULT_DASHBOARD_PORT = 8787;
