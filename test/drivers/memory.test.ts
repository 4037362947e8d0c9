// Runs the Driver conformance suite against the embedded memoryDriver().
import { memoryDriver } from '../../src/server/drivers/memory.js';
import { describeDriverConformance } from './conformance.js';

describeDriverConformance('memoryDriver', () => memoryDriver());
