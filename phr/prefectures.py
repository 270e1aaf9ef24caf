"""The 47 prefectures by JIS X 0401 code; English names are msgids, Japanese in the catalogue."""

from django.utils.translation import gettext_lazy as _

PREFECTURE_CHOICES = [
    ("01", _("Hokkaido")),  # 北海道
    ("02", _("Aomori")),  # 青森県
    ("03", _("Iwate")),  # 岩手県
    ("04", _("Miyagi")),  # 宮城県
    ("05", _("Akita")),  # 秋田県
    ("06", _("Yamagata")),  # 山形県
    ("07", _("Fukushima")),  # 福島県
    ("08", _("Ibaraki")),  # 茨城県
    ("09", _("Tochigi")),  # 栃木県
    ("10", _("Gunma")),  # 群馬県
    ("11", _("Saitama")),  # 埼玉県
    ("12", _("Chiba")),  # 千葉県
    ("13", _("Tokyo")),  # 東京都
    ("14", _("Kanagawa")),  # 神奈川県
    ("15", _("Niigata")),  # 新潟県
    ("16", _("Toyama")),  # 富山県
    ("17", _("Ishikawa")),  # 石川県
    ("18", _("Fukui")),  # 福井県
    ("19", _("Yamanashi")),  # 山梨県
    ("20", _("Nagano")),  # 長野県
    ("21", _("Gifu")),  # 岐阜県
    ("22", _("Shizuoka")),  # 静岡県
    ("23", _("Aichi")),  # 愛知県
    ("24", _("Mie")),  # 三重県
    ("25", _("Shiga")),  # 滋賀県
    ("26", _("Kyoto")),  # 京都府
    ("27", _("Osaka")),  # 大阪府
    ("28", _("Hyogo")),  # 兵庫県
    ("29", _("Nara")),  # 奈良県
    ("30", _("Wakayama")),  # 和歌山県
    ("31", _("Tottori")),  # 鳥取県
    ("32", _("Shimane")),  # 島根県
    ("33", _("Okayama")),  # 岡山県
    ("34", _("Hiroshima")),  # 広島県
    ("35", _("Yamaguchi")),  # 山口県
    ("36", _("Tokushima")),  # 徳島県
    ("37", _("Kagawa")),  # 香川県
    ("38", _("Ehime")),  # 愛媛県
    ("39", _("Kochi")),  # 高知県
    ("40", _("Fukuoka")),  # 福岡県
    ("41", _("Saga")),  # 佐賀県
    ("42", _("Nagasaki")),  # 長崎県
    ("43", _("Kumamoto")),  # 熊本県
    ("44", _("Oita")),  # 大分県
    ("45", _("Miyazaki")),  # 宮崎県
    ("46", _("Kagoshima")),  # 鹿児島県
    ("47", _("Okinawa")),  # 沖縄県
]
