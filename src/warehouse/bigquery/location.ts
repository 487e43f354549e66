import { ConfigError } from '../../lib/errors.js';

/**
 * `bigquery://PROJECT/DATASET?location=US&maximumBytesBilled=10000000000`, parsed and checked
 * without loading the BigQuery SDK. Project and dataset end up inside SQL text as backticked
 * names (identifiers cannot be query parameters), so they are checked against BigQuery's naming
 * rules here and nothing else ever reaches the SQL unparameterised.
 */
export interface BigQueryLocation {
  projectId: string;
  datasetId: string;
  /** Where the dataset lives and the jobs run, e.g. `US`, `EU`, `europe-west1`. */
  location: string;
  /** Cap on bytes billed for every query job (origin lesson 7). */
  maximumBytesBilled: string;
}

export const DEFAULT_MAXIMUM_BYTES_BILLED = String(10 * 1000 ** 3);

// https://cloud.google.com/resource-manager/docs/creating-managing-projects (optionally domain-scoped: example.com:proj)
const PROJECT_PATTERN = /^(?:[a-z][a-z0-9.-]{0,61}[a-z0-9]:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
// https://cloud.google.com/bigquery/docs/datasets#dataset-naming
const DATASET_PATTERN = /^[A-Za-z0-9_]{1,1024}$/;
const LOCATION_PATTERN = /^[A-Za-z][A-Za-z0-9-]{1,40}$/;

export function parseBigQueryLocation(uri: string): BigQueryLocation {
  const usage = { hint: 'Use bigquery://PROJECT/DATASET?location=US, e.g. bigquery://my-project/polycopy?location=US' };
  // Parsed by hand: WHATWG URL reads a domain-scoped project (example.com:proj) as a host and a bad port.
  const match = /^bigquery:\/\/([^/?#]*)((?:\/[^/?#]*)*)(?:\?([^#]*))?$/i.exec(uri.trim());
  if (!match) throw new ConfigError(`--warehouse ${uri}: not a bigquery:// URI`, usage);
  const decode = (part: string, what: string) => {
    try {
      return decodeURIComponent(part);
    } catch {
      throw new ConfigError(`--warehouse ${uri}: the ${what} ${JSON.stringify(part)} has a malformed percent-escape`, usage);
    }
  };
  const projectId = decode(match[1]!, 'project');
  const path = match[2]!.split('/').filter(Boolean);
  if (path.length !== 1) throw new ConfigError(`--warehouse ${uri}: expected exactly one dataset after the project`, usage);
  const datasetId = decode(path[0]!, 'dataset');
  const url = { searchParams: new URLSearchParams(match[3] ?? '') };
  if (!PROJECT_PATTERN.test(projectId)) {
    throw new ConfigError(`--warehouse ${uri}: invalid project id ${JSON.stringify(projectId)}`, {
      hint: 'A project id is 6-30 lower-case letters, digits or dashes, starting with a letter (the id, not the display name)',
    });
  }
  if (!DATASET_PATTERN.test(datasetId)) {
    throw new ConfigError(`--warehouse ${uri}: invalid dataset name ${JSON.stringify(datasetId)}`, {
      hint: 'Dataset names are letters, digits and underscores only',
    });
  }
  const known = new Set(['location', 'maximumBytesBilled']);
  for (const key of url.searchParams.keys()) {
    if (!known.has(key)) throw new ConfigError(`--warehouse ${uri}: unknown parameter ${JSON.stringify(key)}`, { hint: 'Known: location, maximumBytesBilled' });
  }
  const location = url.searchParams.get('location') ?? 'US';
  if (!LOCATION_PATTERN.test(location)) throw new ConfigError(`--warehouse ${uri}: invalid location ${JSON.stringify(location)}`, usage);
  const maximumBytesBilled = url.searchParams.get('maximumBytesBilled') ?? DEFAULT_MAXIMUM_BYTES_BILLED;
  if (!/^[1-9][0-9]{0,18}$/.test(maximumBytesBilled)) {
    throw new ConfigError(`--warehouse ${uri}: maximumBytesBilled must be a positive whole number of bytes`, {
      hint: 'e.g. maximumBytesBilled=10000000000 for 10 GB',
    });
  }
  return { projectId, datasetId, location, maximumBytesBilled };
}

/** `` `project.dataset.table` `` — the only way a table name enters SQL. */
export function tableRef(where: Pick<BigQueryLocation, 'projectId' | 'datasetId'>, table: string): string {
  if (!/^[A-Za-z0-9_]{1,1024}$/.test(table)) throw new Error(`invalid table name ${JSON.stringify(table)}`);
  return `\`${where.projectId}.${where.datasetId}.${table}\``;
}
