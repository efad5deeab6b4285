"""Issue 4, done when: a member becomes a verified seller with a paid deposit, another is rejected with a
reason, and a deposit deduction shows up in the seller's history; the ledger balances after all of it.

Everything happens in the browser, each person in a phone browser of her own:
two members apply from the seller area (one first types an ID number with a
wrong check digit), the customer service reviewer works the verification
queue (seeing the first applicant's identity in full, which is logged),
finance confirms the approved seller's manual deposit transfer, customer
service deducts part of the deposit for a violation (a deduction larger than
the balance is refused first), and finance reads the ledger. Only the users
are made directly in the database.

The same run takes the phone-sized screenshots of these pages for the
operator guide (docs/img/trust-*.png and deposit-*.png), overwriting them.

Text assertions go through `zh()`: the Chinese the page shows once the
zh-hans catalogue translates a string, the English msgid until then.
"""

import re
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from erhuo.accounts import roles
from erhuo.accounts.models import PersonalDataAccess, User
from erhuo.accounts.tests.factories import UserFactory
from erhuo.core.money import format_fen
from erhuo.ledger import selectors as ledger_selectors
from erhuo.ledger.accounts import deposit_code
from erhuo.payments.models import Payment
from erhuo.trust.models import (
    DepositDeduction,
    DepositPolicy,
    IdentityDocument,
    SellerLevel,
    SellerVerification,
    VerificationCheck,
)
from erhuo.trust.tests.factories import id_number

from .helpers import DOCS_IMG, at_path, log_in, posted, scroll_to, shoot, success, zh

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

V = SellerVerification.Status

A_REAL_NAME = "林晓雨"
A_ALIPAY = "13911112222"
B_REAL_NAME = "陈美玲"
B_ALIPAY = "meiling.chen@example.com"
REJECTION_NOTE = "身份证国徽面照片反光，有效期看不清。请在光线柔和处重新拍摄后再提交。"
DECISION = "买家收到的大衣左袖有明显污渍，寄售时描述为“无瑕疵”。买家照片与入库照片对比可证实，按规则扣除 ¥100。"


# --- pictures a phone would take ------------------------------------------------------


def _id_card(path: Path, side: str) -> Path:
    """A 640 × 404 picture shaped like an ID card (portrait side or national emblem side)."""
    image = Image.new("RGB", (640, 404), (236, 240, 246))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((10, 10, 630, 394), radius=24, fill=(214, 228, 240), outline=(150, 170, 196), width=4)
    if side == "front":
        for row in range(5):
            draw.rectangle((50, 60 + row * 56, 330 - row * 20, 80 + row * 56), fill=(120, 132, 150))
        draw.rectangle((420, 70, 580, 280), fill=(190, 200, 214))
        draw.ellipse((455, 100, 545, 190), fill=(120, 100, 90))
        draw.pieslice((430, 190, 570, 330), 180, 360, fill=(60, 70, 90))
        draw.rectangle((180, 330, 590, 360), fill=(90, 100, 120))
    else:
        draw.ellipse((60, 60, 200, 200), fill=(200, 40, 40))
        draw.ellipse((100, 100, 160, 160), fill=(240, 200, 60))
        draw.rectangle((240, 90, 580, 130), fill=(200, 40, 40))
        for row in range(2):
            draw.rectangle((240, 280 + row * 50, 560, 300 + row * 50), fill=(120, 132, 150))
    image.save(path, format="PNG")
    return path


def _transfer_screenshot(path: Path) -> Path:
    """A phone screenshot of a completed transfer: a green tick, the amount, a few lines."""
    image = Image.new("RGB", (390, 700), (245, 245, 245))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 390, 70), fill=(22, 119, 255))
    draw.ellipse((155, 130, 235, 210), fill=(82, 196, 26))
    draw.line((175, 172, 192, 190, 218, 152), fill=(255, 255, 255), width=8)
    draw.rectangle((110, 250, 280, 290), fill=(40, 40, 40))
    for row in range(4):
        draw.rectangle((40, 350 + row * 50, 350, 366 + row * 50), fill=(200, 200, 200))
    image.save(path, format="PNG")
    return path


def _stained_coat(path: Path) -> Path:
    image = Image.new("RGB", (600, 600), (246, 240, 236))
    draw = ImageDraw.Draw(image)
    draw.polygon(
        [
            (220, 80),
            (380, 80),
            (520, 220),
            (460, 280),
            (430, 250),
            (430, 540),
            (170, 540),
            (170, 250),
            (140, 280),
            (80, 220),
        ],
        fill=(70, 80, 110),
    )
    draw.ellipse((100, 200, 150, 240), fill=(150, 120, 60))
    image.save(path, format="PNG")
    return path


def _loaded(page, selector: str) -> None:
    locator = page.locator(selector)
    locator.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=locator.element_handle())


def _to_ops(page) -> None:
    page.get_by_test_id("tab-ops").tap()
    expect(page).to_have_url(at_path("/ops/"))


# --- the member's application -------------------------------------------------------------


def _to_verify(page) -> None:
    """二货 → 寄售 (the seller area) → Get verified."""
    page.get_by_test_id("tab-sell").tap()
    expect(page).to_have_url(at_path("/sell/"))
    page.get_by_test_id("verify-link").tap()
    expect(page).to_have_url(at_path("/trust/verify/"))
    expect(page.locator("h1")).to_have_text(zh("Seller verification"))


def _fill_application(page, *, real_name, number, alipay, score, front, back) -> None:
    form = page.get_by_test_id("verification-form")
    form.locator("input[name=real_name]").fill(real_name)
    form.locator("input[name=id_number]").fill(number)
    form.locator("input[name=alipay_account]").fill(alipay)
    form.locator("input[name=sesame_score]").fill(str(score))
    form.locator("input[name=id_photo_front]").set_input_files(front)
    form.locator("input[name=id_photo_back]").set_input_files(back)


def _send_application(page) -> None:
    page.get_by_test_id("verification-form").locator("button[type=submit]").tap()


def _status(page, status: str):
    card = page.get_by_test_id("verification-status")
    expect(card).to_have_attribute("data-status", status)
    return card


def _sees_submitted(page) -> None:
    expect(page).to_have_url(at_path("/trust/verify/"))
    success(page, zh("Thank you. Your application is under review; we will tell you the result."))
    expect(_status(page, V.SUBMITTED).locator("h2")).to_have_text(zh("Under review"))
    # Under review: no second application form.
    expect(page.get_by_test_id("verification-form")).to_have_count(0)


def _field(page, name: str):
    return page.locator(f".field:has([name={name}])")


# --- reviewers -------------------------------------------------------------------------------


def _open_application(page, verification) -> None:
    page.locator(f'.queue-row[data-verification="{verification.pk}"] a.queue-link').tap()
    expect(page).to_have_url(at_path(f"/ops/trust/verifications/{verification.pk}/"))


def test_two_members_apply_one_becomes_a_seller_with_a_deposit_the_other_is_rejected(open_page, tmp_path):
    DOCS_IMG.mkdir(parents=True, exist_ok=True)
    a = UserFactory(roles=[roles.MEMBER], display_name="小雨妈妈", city="杭州", phone="13855550101")
    b = UserFactory(roles=[roles.MEMBER], display_name="美玲", city="苏州", phone="13855550202")
    reviewer = UserFactory(roles=[roles.CUSTOMER_SERVICE], display_name="客服小周", phone="13855550303")
    finance = UserFactory(roles=[roles.FINANCE], display_name="财务王姐", phone="13855550404")
    a_number, b_number = id_number(), id_number()
    # The same number with a wrong check digit: a typing mistake.
    b_mistyped = b_number[:17] + ("1" if b_number[17] != "1" else "2")
    pictures = {
        "a-front": _id_card(tmp_path / "a-front.png", "front"),
        "a-back": _id_card(tmp_path / "a-back.png", "back"),
        "b-front": _id_card(tmp_path / "b-front.png", "front"),
        "b-back": _id_card(tmp_path / "b-back.png", "back"),
        "transfer": _transfer_screenshot(tmp_path / "transfer.png"),
        "coat": _stained_coat(tmp_path / "coat.png"),
    }
    required_fen = DepositPolicy.current().required_fen(SellerLevel.NEW)

    # === A applies from the seller area. ===
    a_page = open_page("a")
    log_in(a_page, a)
    _to_verify(a_page)
    expect(_status(a_page, "not_started").locator("h2")).to_have_text(zh("Not started"))
    _fill_application(
        a_page,
        real_name=A_REAL_NAME,
        number=a_number,
        alipay=A_ALIPAY,
        score=712,
        front=pictures["a-front"],
        back=pictures["a-back"],
    )
    scroll_to(a_page, "[data-testid=verification-form]")
    shoot(a_page, "trust-verify-form.png")
    _send_application(a_page)
    _sees_submitted(a_page)
    facts = _status(a_page, V.SUBMITTED).locator(".facts dd")
    # Her own data comes back masked, even to her.
    expect(facts.nth(0)).not_to_have_text(A_REAL_NAME)
    expect(facts.nth(1)).not_to_have_text(a_number)
    expect(facts.nth(3)).to_have_text("712")
    shoot(a_page, "trust-verify-submitted.png")
    a_verification = SellerVerification.objects.get(user=a)
    assert a_verification.status == V.SUBMITTED
    assert (a_verification.real_name, a_verification.id_number, a_verification.alipay_account) == (
        A_REAL_NAME,
        a_number,
        A_ALIPAY,
    )
    assert sorted(IdentityDocument.objects.filter(verification=a_verification).values_list("side", flat=True)) == [
        IdentityDocument.Side.BACK,
        IdentityDocument.Side.FRONT,
    ]

    # The seller area now says where she stands.
    a_page.get_by_test_id("tab-sell").tap()
    expect(a_page.get_by_test_id("verification-state")).to_have_text(
        f"{zh('Your application:')} {zh(V.SUBMITTED.label)}"
    )

    # === B mistypes her ID number: refused on the field, and what she typed is kept. ===
    b_page = open_page("b")
    log_in(b_page, b)
    _to_verify(b_page)
    _fill_application(
        b_page,
        real_name=B_REAL_NAME,
        number=b_mistyped,
        alipay=B_ALIPAY,
        score=655,
        front=pictures["b-front"],
        back=pictures["b-back"],
    )
    with posted(b_page, "/trust/verify/") as response:
        _send_application(b_page)
    assert response.value.status == 422
    expect(_field(b_page, "id_number")).to_have_class(re.compile(r"\bhas-error\b"))
    expect(_field(b_page, "id_number").locator(".field-error")).to_have_text(
        zh("This ID number is not valid: its last digit does not match. Check it for a typing mistake.")
    )
    expect(b_page.locator(".field-error")).to_have_count(1)
    form = b_page.get_by_test_id("verification-form")
    expect(form.locator("input[name=real_name]")).to_have_value(B_REAL_NAME)
    expect(form.locator("input[name=id_number]")).to_have_value(b_mistyped)
    expect(form.locator("input[name=alipay_account]")).to_have_value(B_ALIPAY)
    expect(form.locator("input[name=sesame_score]")).to_have_value("655")
    _status(b_page, "not_started")
    scroll_to(b_page, ".field.has-error")
    shoot(b_page, "trust-verify-invalid-id.png")
    assert not SellerVerification.objects.filter(user=b).exists()

    # She corrects the number; the browser does not keep the photos, so she picks them again.
    form.locator("input[name=id_number]").fill(b_number)
    form.locator("input[name=id_photo_front]").set_input_files(pictures["b-front"])
    form.locator("input[name=id_photo_back]").set_input_files(pictures["b-back"])
    _send_application(b_page)
    _sees_submitted(b_page)
    b_verification = SellerVerification.objects.get(user=b)
    assert (b_verification.status, b_verification.id_number, b_verification.sesame_score) == (
        V.SUBMITTED,
        b_number,
        655,
    )

    # A member cannot open the review pages.
    assert b_page.goto("/ops/trust/verifications/").status == 403
    assert b_page.goto(f"/ops/trust/verifications/{a_verification.pk}/").status == 404
    expect(b_page.get_by_text(A_REAL_NAME)).to_have_count(0)

    # === The reviewer works the queue: A's application, in full, and approved. ===
    reviewer_page = open_page("reviewer")
    log_in(reviewer_page, reviewer)
    _to_ops(reviewer_page)
    reviewer_page.get_by_test_id("verification-queue-link").tap()
    expect(reviewer_page).to_have_url(at_path("/ops/trust/verifications/"))
    expect(reviewer_page.locator("h1")).to_have_text(zh("Seller verifications"))
    rows = reviewer_page.locator(".queue-row")
    expect(rows).to_have_count(2)
    # Oldest first, masked in the list.
    assert [rows.nth(i).get_attribute("data-verification") for i in range(2)] == [
        str(a_verification.pk),
        str(b_verification.pk),
    ]
    expect(reviewer_page.locator("#main")).not_to_contain_text(A_REAL_NAME)
    expect(reviewer_page.locator("#main")).not_to_contain_text(a_number)
    shoot(reviewer_page, "trust-queue.png")
    assert not PersonalDataAccess.objects.filter(subject=a).exists()

    _open_application(reviewer_page, a_verification)
    identity = reviewer_page.get_by_test_id("identity")
    expect(identity).to_have_attribute("data-unmasked", "1")
    expect(identity.get_by_test_id("real-name")).to_have_text(A_REAL_NAME)
    expect(identity.get_by_test_id("id-number")).to_have_text(a_number)
    expect(identity.get_by_test_id("alipay")).to_have_text(A_ALIPAY)
    expect(identity).to_contain_text(zh("Shown in full to you because you verify sellers. This look has been logged."))
    for side in ("front", "back"):
        _loaded(reviewer_page, f"[data-testid=id-photo-{side}]")
    checks = reviewer_page.get_by_test_id("checks").locator(".trust-check")
    expect(checks).to_have_count(4)
    expect(checks.locator(".chip")).to_have_text([zh(VerificationCheck.Result.PENDING.label)] * 4)
    reviewer_page.evaluate("window.scrollTo(0, 0)")
    shoot(reviewer_page, "trust-review.png")

    decide = reviewer_page.get_by_test_id("decide-form")
    for kind in VerificationCheck.KIND_ORDER:
        decide.locator(f'input[name="check_{kind}"][value="{VerificationCheck.Result.PASSED}"]').check()
    scroll_to(reviewer_page, "[data-testid=decide-form]")
    shoot(reviewer_page, "trust-review-decision.png")
    decide.locator('button[name=decision][value="approve"]').tap()
    expect(reviewer_page).to_have_url(at_path("/ops/trust/verifications/"))
    success(reviewer_page, zh("Approved. The member is now a verified seller."))
    expect(reviewer_page.locator(".queue-row")).to_have_count(1)

    # === B's application: rejected with a reason and a note. ===
    _open_application(reviewer_page, b_verification)
    expect(reviewer_page.get_by_test_id("real-name")).to_have_text(B_REAL_NAME)
    decide = reviewer_page.get_by_test_id("decide-form")
    decide.locator('input[name="check_identity"][value="failed"]').check()
    decide.locator("select[name=reason]").select_option(SellerVerification.RejectionReason.ID_UNREADABLE)
    decide.locator("textarea[name=note]").fill(REJECTION_NOTE)
    decide.locator('button[name=decision][value="reject"]').tap()
    expect(reviewer_page).to_have_url(at_path("/ops/trust/verifications/"))
    success(reviewer_page, zh("Rejected. The member sees the reason and may apply again."))
    expect(reviewer_page.locator(".queue-row")).to_have_count(0)
    expect(reviewer_page.locator(".empty")).to_have_text(zh("No application is waiting. Well done!"))

    # === A is a verified seller; B reads why she is not. ===
    a_page.goto("/trust/verify/")
    approved = _status(a_page, V.APPROVED)
    expect(approved.locator("h2")).to_have_text(zh("Verified seller"))
    expect(approved.get_by_test_id("level")).to_have_text(zh(SellerLevel.NEW.label))
    expect(a_page.get_by_test_id("verification-form")).to_have_count(0)
    shoot(a_page, "trust-verify-approved.png")
    a_verification.refresh_from_db()
    assert (a_verification.status, a_verification.decided_by) == (V.APPROVED, reviewer)
    assert User.objects.get(pk=a.pk).has_role(roles.SELLER)
    assert set(a_verification.checks.values_list("result", flat=True)) == {VerificationCheck.Result.PASSED}

    b_page.goto("/trust/verify/")
    rejected = _status(b_page, V.REJECTED)
    expect(rejected.locator("h2")).to_have_text(zh("Not approved"))
    expect(rejected.get_by_test_id("rejection-reason")).to_have_text(
        zh(SellerVerification.RejectionReason.ID_UNREADABLE.label)
    )
    expect(rejected.get_by_test_id("rejection-note")).to_have_text(REJECTION_NOTE)
    # She may apply again.
    expect(b_page.get_by_test_id("verification-form")).to_be_visible()
    shoot(b_page, "trust-verify-rejected.png")
    b_verification.refresh_from_db()
    assert (b_verification.status, b_verification.rejection_reason, b_verification.rejection_note) == (
        V.REJECTED,
        SellerVerification.RejectionReason.ID_UNREADABLE,
        REJECTION_NOTE,
    )
    assert not User.objects.get(pk=b.pk).has_role(roles.SELLER)

    # === A wants to consign: first the deposit. ===
    a_page.get_by_test_id("tab-sell").tap()
    expect(a_page.locator(".badge-ok")).to_have_text(zh("You are a verified seller."))
    a_page.get_by_test_id("my-consignments").tap()
    expect(a_page).to_have_url(at_path("/consign/"))
    refusal = a_page.get_by_test_id("not-seller")
    expect(refusal).to_have_attribute("data-refusal", "deposit_required")
    expect(refusal.locator("h2")).to_have_text(zh("Pay your deposit to consign"))
    expect(a_page.get_by_test_id("new-batch")).to_have_count(0)
    refusal.get_by_test_id("go-deposit").tap()
    expect(a_page).to_have_url(at_path("/trust/deposit/"))
    expect(a_page.locator("h1")).to_have_text(zh("My deposit"))
    expect(a_page.get_by_test_id("deposit-balance")).to_have_text(format_fen(0))
    expect(a_page.get_by_test_id("deposit-required")).to_have_text(format_fen(required_fen))
    expect(a_page.get_by_test_id("deposit-shortfall")).to_have_text(format_fen(required_fen))
    expect(a_page.locator(".deposit-levels tr.is-mine td").first).to_contain_text(zh(SellerLevel.NEW.label))
    pay = a_page.get_by_test_id("deposit-pay")
    expect(pay.locator("h2")).to_have_text(zh("Pay the %(amount)s missing") % {"amount": format_fen(required_fen)})
    shoot(a_page, "deposit-mine.png")

    pay.locator('input[name=provider][value="manual"]').check()
    pay.get_by_test_id("deposit-pay-button").tap()
    expect(a_page).to_have_url(re.compile(r"/pay/\d+/$"))
    payment = Payment.objects.get(payer=a)
    expect(a_page).to_have_url(at_path(f"/pay/{payment.pk}/"))
    expect(a_page.get_by_test_id("payment-amount")).to_have_text(format_fen(required_fen))
    expect(a_page.get_by_test_id("payment-status")).to_have_text(zh(Payment.Status.PENDING.label))
    instructions = a_page.get_by_test_id("manual-instructions")
    expect(instructions.get_by_test_id("note-to-write")).to_have_text(f"EH-PAY-{payment.pk}")
    proof_form = a_page.get_by_test_id("proof-form")
    proof_form.locator("input[name=proof]").set_input_files(pictures["transfer"])
    shoot(a_page, "deposit-pay.png")
    proof_form.locator("button[type=submit]").tap()
    expect(a_page).to_have_url(at_path(f"/pay/{payment.pk}/"))
    success(a_page, zh("Thank you! Finance checks the transfer within one working day."))
    expect(a_page.get_by_test_id("payment-status")).to_have_text(zh(Payment.Status.SUBMITTED.label))
    expect(a_page.get_by_test_id("proof-sent")).to_be_visible()

    # The deposit page now points to the open payment.
    a_page.goto("/trust/deposit/")
    expect(a_page.get_by_test_id("open-payment")).to_be_visible()
    expect(a_page.get_by_test_id("deposit-balance")).to_have_text(format_fen(0))

    # === Finance sees the proof and confirms. ===
    finance_page = open_page("finance")
    log_in(finance_page, finance)
    _to_ops(finance_page)
    finance_page.get_by_test_id("payments-queue-link").tap()
    expect(finance_page).to_have_url(at_path("/ops/payments/"))
    row = finance_page.locator(f'[data-testid=queue-payment][data-payment="{payment.pk}"]')
    expect(finance_page.get_by_test_id("queue-payment")).to_have_count(1)
    expect(row.locator(".pay-amount")).to_have_text(format_fen(required_fen))
    expect(row).to_contain_text(a.display_name)
    _loaded(finance_page, f'[data-payment="{payment.pk}"] img.pay-proof')
    finance_page.evaluate("window.scrollTo(0, 0)")
    shoot(finance_page, "deposit-finance-queue.png")
    row.get_by_test_id("confirm").tap()
    expect(finance_page).to_have_url(at_path("/ops/payments/"))
    success(finance_page, zh("Payment #%(id)s confirmed: the money is booked.") % {"id": payment.pk})
    expect(finance_page.get_by_test_id("queue-payment")).to_have_count(0)
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED

    # === A: the deposit is held, with its history line. ===
    a_page.goto("/trust/deposit/")
    expect(a_page.get_by_test_id("deposit-balance")).to_have_text(format_fen(required_fen))
    expect(a_page.get_by_test_id("deposit-shortfall")).to_have_text(format_fen(0))
    expect(a_page.get_by_test_id("open-payment")).to_have_count(0)
    history = a_page.get_by_test_id("deposit-history").locator(".deposit-history > li")
    expect(history).to_have_count(1)
    expect(history.first.locator(".deposit-memo")).to_have_text(
        zh("Deposit paid in (payment #%(id)s)") % {"id": payment.pk}
    )
    expect(history.first.locator("strong")).to_have_text(f"+{format_fen(required_fen)}")
    scroll_to(a_page, "[data-testid=deposit-pay]")
    shoot(a_page, "deposit-held.png")

    # Now she may consign: the form, not the notice.
    a_page.get_by_test_id("tab-sell").tap()
    a_page.get_by_test_id("my-consignments").tap()
    expect(a_page.get_by_test_id("not-seller")).to_have_count(0)
    a_page.get_by_test_id("new-batch").tap()
    expect(a_page).to_have_url(at_path("/consign/new/"))
    expect(a_page.locator("h1")).to_have_text(zh("Consign items"))
    expect(a_page.get_by_test_id("not-seller")).to_have_count(0)
    expect(a_page.locator("[data-item-block]")).to_have_count(1)

    # === Customer service deducts for a violation; more than the balance is refused first. ===
    _to_ops(reviewer_page)
    reviewer_page.get_by_test_id("deposits-link").tap()
    expect(reviewer_page).to_have_url(at_path("/ops/trust/deposits/"))
    reviewer_page.locator(f'[data-testid=deposit-sellers] tr[data-seller="{a.pk}"] a').tap()
    expect(reviewer_page).to_have_url(at_path(f"/ops/trust/deposits/{a.pk}/"))
    expect(reviewer_page.get_by_test_id("deposit-balance")).to_have_text(format_fen(required_fen))
    deduction_form = reviewer_page.get_by_test_id("deduction-form")
    too_much = required_fen + 20_000
    deduction_form.locator("input[name=amount]").fill(str(too_much // 100))
    deduction_form.locator(f'input[name=violation][value="{DepositDeduction.Violation.MISREPRESENTATION}"]').check()
    deduction_form.locator("textarea[name=decision]").fill(DECISION)
    deduction_form.locator("input[name=evidence_photos]").set_input_files(pictures["coat"])
    with posted(reviewer_page, f"/ops/trust/deposits/{a.pk}/") as response:
        deduction_form.get_by_test_id("deduct").tap()
    assert response.value.status == 409
    deduction_form = reviewer_page.get_by_test_id("deduction-form")
    expect(deduction_form.locator(".field-error")).to_have_text(
        zh("At most %(held)s.") % {"held": format_fen(required_fen)}
    )
    # What she typed is kept (not the photo: browsers never re-send a file).
    expect(deduction_form.locator("input[name=amount]")).to_have_value(str(too_much // 100))
    expect(deduction_form.locator("textarea[name=decision]")).to_have_value(DECISION)
    expect(reviewer_page.get_by_test_id("deposit-balance")).to_have_text(format_fen(required_fen))
    assert not DepositDeduction.objects.exists()
    scroll_to(reviewer_page, "[data-testid=deduction-form]")
    shoot(reviewer_page, "deposit-deduction-refused.png")

    deduction_form.locator("input[name=amount]").fill("100")
    deduction_form.locator(f'input[name=violation][value="{DepositDeduction.Violation.MISREPRESENTATION}"]').check()
    deduction_form.locator("input[name=evidence_photos]").set_input_files(pictures["coat"])
    deduction_form.get_by_test_id("deduct").tap()
    expect(reviewer_page).to_have_url(re.compile(r"#deduction-\d+$"))
    deduction = DepositDeduction.objects.get(seller=a)
    expect(reviewer_page).to_have_url(re.compile(rf"/ops/trust/deposits/{a.pk}/#deduction-{deduction.pk}$"))
    success(
        reviewer_page,
        zh("Deducted from %(name)s's deposit; she sees the decision and the evidence.") % {"name": a.display_name},
    )
    expect(reviewer_page.get_by_test_id("deposit-balance")).to_have_text(format_fen(required_fen - 10_000))
    reviewer_page.evaluate("window.scrollTo(0, 0)")
    shoot(reviewer_page, "deposit-ops-seller.png")
    assert (deduction.amount_fen, deduction.violation, deduction.decision, deduction.decided_by) == (
        10_000,
        DepositDeduction.Violation.MISREPRESENTATION,
        DECISION,
        reviewer,
    )
    assert deduction.photos.count() == 1

    # === A sees the deduction, its decision and its evidence in her history. ===
    a_page.goto("/trust/deposit/")
    expect(a_page.get_by_test_id("deposit-balance")).to_have_text(format_fen(required_fen - 10_000))
    expect(a_page.get_by_test_id("deposit-shortfall")).to_have_text(format_fen(10_000))
    history = a_page.get_by_test_id("deposit-history").locator(".deposit-history > li")
    expect(history).to_have_count(2)
    newest = history.first
    expect(newest.locator(".deposit-memo")).to_have_text(
        zh("Deposit deducted: %(violation)s") % {"violation": zh(DepositDeduction.Violation.MISREPRESENTATION.label)}
    )
    expect(newest.locator("strong")).to_have_text(format_fen(-10_000))
    expect(newest.locator("a")).to_have_attribute("href", f"#deduction-{deduction.pk}")
    shown = a_page.get_by_test_id("deduction")
    expect(shown).to_have_count(1)
    expect(shown.get_by_test_id("deduction-decision")).to_have_text(DECISION)
    expect(shown).not_to_contain_text(reviewer.display_name)
    _loaded(a_page, "[data-testid=deduction] img")
    scroll_to(a_page, "[data-testid=deposit-history]")
    shoot(a_page, "deposit-deducted.png")

    # === Finance reads the ledger: it balances. ===
    _to_ops(finance_page)
    finance_page.get_by_test_id("ledger-link").tap()
    expect(finance_page).to_have_url(at_path("/ops/ledger/"))
    check = finance_page.get_by_test_id("ledger-check")
    expect(check).to_have_class(re.compile(r"\bis-ok\b"))
    expect(check).to_have_text(
        zh("The books balance: every entry sums to zero and every balance matches its postings.")
    )
    shoot(finance_page, "deposit-ledger.png")

    # === Anyone: A's public seller page, with nothing personal on it. ===
    visitor_page = open_page("visitor")
    response = visitor_page.goto(f"/sellers/{a.username}/")
    assert response.status == 200
    expect(visitor_page.get_by_test_id("seller-name")).to_have_text(a.display_name)
    expect(visitor_page.get_by_test_id("verified-badge")).to_have_text(f"✓ {zh('Verified seller')}")
    expect(visitor_page.get_by_test_id("level-badge")).to_have_text(zh(SellerLevel.NEW.label))
    html = visitor_page.content()
    for personal in (A_REAL_NAME, a_number, a.phone, A_ALIPAY, a.city):
        assert personal not in html, personal
    shoot(visitor_page, "trust-seller-public.png")
    assert visitor_page.goto(f"/sellers/{b.username}/").status == 404

    # === The books and the audit trail. ===
    assert ledger_selectors.ledger_problems() == []
    deposit = ledger_selectors.account_by_code(deposit_code(a.pk))
    assert ledger_selectors.balance_fen(deposit) == required_fen - 10_000
    # Every look at A's identity is logged, by the reviewer only: the page and each ID photo.
    looks = PersonalDataAccess.objects.filter(subject=a)
    assert set(looks.values_list("actor_id", flat=True)) == {reviewer.pk}
    assert set(looks.values_list("reason", flat=True)) == {PersonalDataAccess.Reason.IDENTITY_CHECK}
    logged_fields = {field for fields in looks.values_list("fields", flat=True) for field in fields}
    assert {"real_name", "id_number", "id_photo_front", "id_photo_back"} <= logged_fields
    assert looks.filter(path=f"/ops/trust/verifications/{a_verification.pk}/").exists()
    assert PersonalDataAccess.objects.filter(subject=b, actor=reviewer).exists()

    for name in (
        "trust-verify-form",
        "trust-verify-submitted",
        "trust-verify-invalid-id",
        "trust-queue",
        "trust-review",
        "trust-review-decision",
        "trust-verify-approved",
        "trust-verify-rejected",
        "trust-seller-public",
        "deposit-mine",
        "deposit-pay",
        "deposit-finance-queue",
        "deposit-held",
        "deposit-deduction-refused",
        "deposit-ops-seller",
        "deposit-deducted",
        "deposit-ledger",
    ):
        assert (DOCS_IMG / f"{name}.png").stat().st_size > 0
