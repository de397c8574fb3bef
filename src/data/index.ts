export * from './table.js';
export { readCsv, writeCsv, formatNumber, quoteField } from './csv.js';
export { readParquet, writeParquet } from './parquet.js';
export * from './schema.js';
export * from './scalers.js';
