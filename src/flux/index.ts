export * from './kde.js';
export * from './kde-bank.js';
