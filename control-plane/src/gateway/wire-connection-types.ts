import { ConnectionType } from '@airlock/proto';
import type { ConnectionType as ConnectionTypeName } from '../connections/connection.entity.js';

export const WIRE_CONNECTION_TYPES: Record<ConnectionTypeName, ConnectionType> = {
  postgres: ConnectionType.POSTGRES,
  tcp: ConnectionType.TCP,
  ssh: ConnectionType.SSH,
  http: ConnectionType.HTTP,
  kubernetes: ConnectionType.KUBERNETES,
};
