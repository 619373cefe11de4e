"""Forms of the account pages. Field checks reuse the validators, so a wrong check digit is
reported next to the ID number before anything else runs; the services check again."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.core.errors import DomainError

from .validators import validate_credit_code, validate_id_number, validate_mobile_phone


class AccessibleForm(forms.Form):
    """Marks fields with errors ``aria-invalid`` and ties them to their messages."""

    def full_clean(self) -> None:
        super().full_clean()
        self.mark_errors()

    def mark_errors(self) -> None:
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                attrs["aria-invalid"] = "true"
                attrs["aria-describedby"] = f"id_{name}_error"

    def add_domain_error(self, exc: DomainError, field_map: dict[str, str] | None = None) -> None:
        for e in exc.errors:
            name = (field_map or {}).get(e.field, e.field)
            self.add_error(name if name in self.fields else None, e.message)
        self.mark_errors()


def _text(label, *, max_length=64, autocomplete="off", inputmode=None, help_text="", **attrs):
    widget_attrs = {"autocomplete": autocomplete, **attrs}
    if inputmode:
        widget_attrs["inputmode"] = inputmode
    return forms.CharField(
        label=label,
        max_length=max_length,
        help_text=help_text,
        widget=forms.TextInput(attrs=widget_attrs),
        error_messages={"required": _("此项为必填项")},
    )


class PersonRegistrationForm(AccessibleForm):
    name = _text(gettext_lazy("姓名"), autocomplete="name")
    id_number = _text(
        gettext_lazy("身份证号"),
        max_length=24,
        help_text=gettext_lazy("18位居民身份证号码，末位可以是 X"),
        spellcheck="false",
    )
    phone = _text(gettext_lazy("手机号"), max_length=20, autocomplete="tel", inputmode="tel")
    username = _text(
        gettext_lazy("用户名"),
        max_length=150,
        autocomplete="username",
        help_text=gettext_lazy("登录时使用，也可以用身份证号登录"),
        spellcheck="false",
    )
    password = forms.CharField(
        label=gettext_lazy("密码"),
        help_text=gettext_lazy("至少10位，不能全是数字，不要与用户名相似"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=gettext_lazy("确认密码"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    nonce = forms.CharField(widget=forms.HiddenInput, required=False)

    def clean_id_number(self) -> str:
        return validate_id_number(self.cleaned_data["id_number"]).value

    def clean_phone(self) -> str:
        return validate_mobile_phone(self.cleaned_data["phone"])

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password2") and data["password"] != data["password2"]:
            self.add_error("password2", _("两次输入的密码不一致"))
        return data


class PhoneCodeForm(AccessibleForm):
    code = forms.CharField(
        label=gettext_lazy("短信验证码"),
        max_length=12,
        help_text=gettext_lazy("6位数字"),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"}
        ),
        error_messages={"required": gettext_lazy("请填写短信验证码")},
    )

    def clean_code(self) -> str:
        code = "".join(self.cleaned_data["code"].split())
        if not (len(code) == 6 and code.isdigit()):
            raise forms.ValidationError(_("验证码为6位数字"))
        return code


class CompanyRegistrationForm(AccessibleForm):
    credit_code = _text(
        gettext_lazy("统一社会信用代码"),
        max_length=24,
        help_text=gettext_lazy("18位，见营业执照"),
        spellcheck="false",
    )
    name = _text(gettext_lazy("法人名称"), max_length=200, help_text=gettext_lazy("与营业执照上的名称一致"))

    def clean_credit_code(self) -> str:
        return validate_credit_code(self.cleaned_data["credit_code"]).value


class MandateForm(AccessibleForm):
    company = forms.TypedChoiceField(label=gettext_lazy("授权法人"), coerce=int)
    agent_id_number = _text(
        gettext_lazy("经办人身份证号"),
        max_length=24,
        help_text=gettext_lazy("经办人须已在本平台注册并完成实名核验"),
        spellcheck="false",
    )
    all_items = forms.BooleanField(label=gettext_lazy("授权办理全部事项"), required=False)
    item_codes = forms.CharField(
        label=gettext_lazy("授权事项编码"),
        required=False,
        max_length=2000,
        help_text=gettext_lazy("不授权全部事项时填写：基本目录事项编码，多个用逗号或空格分隔"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    starts_on = forms.DateField(
        label=gettext_lazy("生效日期"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    ends_on = forms.DateField(
        label=gettext_lazy("截止日期"),
        help_text=gettext_lazy("含当日；授权期限最长3年"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args, companies=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["company"].choices = [(c.pk, f"{c.name}（{c.credit_code}）") for c in companies]
        if not self.is_bound:
            today = timezone.localdate()
            self.initial.setdefault("starts_on", today)
            self.initial.setdefault("ends_on", today.replace(year=today.year + 1) - dt.timedelta(days=1))

    def clean_agent_id_number(self) -> str:
        return validate_id_number(self.cleaned_data["agent_id_number"]).value

    def codes(self) -> list[str]:
        raw = self.cleaned_data.get("item_codes") or ""
        return [c for c in raw.replace("，", ",").replace("、", ",").replace(",", " ").split() if c]

    def period(self) -> tuple[dt.datetime, dt.datetime]:
        """Whole local days: from the start of the first to the end of the last."""
        tz = timezone.get_current_timezone()
        start = dt.datetime.combine(self.cleaned_data["starts_on"], dt.time.min, tzinfo=tz)
        end = dt.datetime.combine(self.cleaned_data["ends_on"] + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
        return start, end
