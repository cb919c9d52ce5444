// Handlers: the shared Powertools logger (service name and level come from the environment).
import { Logger } from '@aws-lambda-powertools/logger';

export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'taskbound' });
