export { startDashboard } from './server.js';
export { DEFAULT_DASHBOARD_HOST, DEFAULT_DASHBOARD_PORT } from './defaults.js';
export type { Dashboard, DashboardLogger, DashboardOptions } from './server.js';
export type { ApiUsage, BigQueryUsage, FailureClass, FailureExample, RunState, RunStatus, StatusJson, StatusSource, ThroughputPoint } from '../status/status-json.js';
