// The portable guarantee suite's pipelining area, run by a ZooKeeper-protocol client over the gateway.
import { describePipeliningGuarantees } from '@faaskeeper/core/testkit';
import { wireGatewayTarget } from '../support/wire-client-target.js';

describePipeliningGuarantees(wireGatewayTarget);
