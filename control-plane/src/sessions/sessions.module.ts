import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AgentsModule } from '../agents/agents.module.js';
import { AuditModule } from '../audit/audit.module.js';
import { SessionEventEntity } from './session-event.entity.js';
import { SessionEntity } from './session.entity.js';
import { SessionRecordingEntity } from './session-recording.entity.js';
import { SessionRecordingsService } from './session-recordings.service.js';
import { SessionKillService } from './session-kill.service.js';
import { SessionsController } from './sessions.controller.js';
import { SessionsRepository } from './sessions.repository.js';
import { SessionsService } from './sessions.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([SessionEntity, SessionEventEntity, SessionRecordingEntity]), AgentsModule, AuditModule],
  controllers: [SessionsController],
  providers: [SessionsRepository, SessionsService, SessionKillService, SessionRecordingsService],
  exports: [SessionsService, SessionRecordingsService],
})
export class SessionsModule {}
