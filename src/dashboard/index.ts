export { startDashboard, DEFAULT_DASHBOARD_HOST, DEFAULT_DASHBOARD_PORT } from './server.js';
export type { Dashboard, DashboardLogger, DashboardOptions } from './server.js';
export type { ApiUsage, BigQueryUsage, FailureClass, FailureExample, RunState, RunStatus, StatusJson, StatusSource, ThroughputPoint } from '../library/status-json.js';
