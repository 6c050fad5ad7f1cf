import { Body, Controller, Get, HttpCode, Param, ParseIntPipe, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiQuery, ApiTags } from '@nestjs/swagger';
import { InvalidRequestError } from '../common/errors.js';
import { CurrentPrincipal, type Principal } from '../identity/principal.js';
import { ApproveReviewDto, RejectReviewDto } from './dto/decide-review.dto.js';
import { REVIEW_STATES, type ReviewState } from './review-state.js';
import { ReviewDetailView, ReviewListView, toReviewDetailView, toReviewView } from './review.views.js';
import { ReviewsService, type Reviewer } from './reviews.service.js';

function reviewerOf(principal: Principal): Reviewer {
  return { subject: principal.subject, groups: (principal as { groups?: string[] }).groups ?? [] };
}

@ApiTags('reviews')
@ApiBearerAuth()
@Controller('v1/reviews')
export class ReviewsController {
  constructor(private readonly reviews: ReviewsService) {}

  @Get()
  @ApiQuery({ name: 'state', required: false, enum: REVIEW_STATES })
  @ApiQuery({ name: 'limit', required: false })
  @ApiOkResponse({ type: ReviewListView, description: 'Newest first' })
  async list(@Query('state') state?: string, @Query('limit') limit?: string): Promise<ReviewListView> {
    if (state !== undefined && !(REVIEW_STATES as readonly string[]).includes(state)) {
      throw new InvalidRequestError(`state must be one of ${REVIEW_STATES.join(', ')}`);
    }
    if (limit !== undefined && !/^[1-9]\d{0,3}$/.test(limit)) throw new InvalidRequestError('limit must be a whole number from 1 to 500');
    const reviews = await this.reviews.list(state as ReviewState | undefined, limit ? Number(limit) : undefined);
    return { reviews: reviews.map((r) => toReviewView(r)) };
  }

  @Get(':id')
  @ApiOkResponse({ type: ReviewDetailView })
  async get(@Param('id', ParseIntPipe) id: number): Promise<ReviewDetailView> {
    return toReviewDetailView(await this.reviews.get(id));
  }

  @Post(':id/approve')
  @HttpCode(200)
  @ApiOkResponse({ type: ReviewDetailView })
  async approve(@Param('id', ParseIntPipe) id: number, @Body() body: ApproveReviewDto, @CurrentPrincipal() principal: Principal): Promise<ReviewDetailView> {
    await this.reviews.approve(id, reviewerOf(principal), { forSeconds: body.forSeconds, comment: body.comment });
    return toReviewDetailView(await this.reviews.get(id));
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @ApiOkResponse({ type: ReviewDetailView, description: 'Only the requester may cancel their own pending review' })
  async cancel(@Param('id', ParseIntPipe) id: number, @CurrentPrincipal() principal: Principal): Promise<ReviewDetailView> {
    await this.reviews.cancel(id, principal);
    return toReviewDetailView(await this.reviews.get(id));
  }

  @Post(':id/reject')
  @HttpCode(200)
  @ApiOkResponse({ type: ReviewDetailView })
  async reject(@Param('id', ParseIntPipe) id: number, @Body() body: RejectReviewDto, @CurrentPrincipal() principal: Principal): Promise<ReviewDetailView> {
    await this.reviews.reject(id, reviewerOf(principal), body.reason);
    return toReviewDetailView(await this.reviews.get(id));
  }
}
